//! Java behaviour Connect's output depends on, written once: how Java prints numbers,
//! dates and collections, its regex replacement syntax, the class names in Connect's
//! messages, `HashMap` iteration order, and how Connect's `Values` reads text. The
//! tests hold outputs taken from Java.

pub mod chars;
pub mod class_name;
pub mod collections;
pub mod number;
pub mod number_parse;
pub mod object;
pub mod regex;
pub mod time;
pub mod values;

pub use class_name::{class_name, class_string, schema_type_class_name, ClassString};
pub use number::{bigdecimal_to_string, double_to_string, float_to_string, write_double, write_float};
pub use regex::{JavaPattern, RegexReplace, Replacement, ReplacementError};
pub use time::{JavaDateFormat, MILLIS_PER_DAY};
