// Writes the expected outputs of Kafka Connect's Values.parseString for Ferry's table test
// (crates/ferry-core/tests/data/values_parse_string.jsonl), one JSON object per line:
// {"input": ..., "expected": ...}. The inputs are the hand-picked cases given on standard
// input (one JSON string per line) followed by random strings from a fixed seed.
//
// Run with the real Connect 4.3 jars (UTC, as Ferry's dates are):
//   CP="$(ls ~/.cache/ferry-realconnect/libs-4.3.0-3.6.3/*.jar | paste -sd:)"
//   java -Duser.timezone=UTC -cp "$CP" fuzz/java/ParseStringTable.java \
//     < crates/ferry-core/tests/data/values_parse_string_inputs.jsonl \
//     > crates/ferry-core/tests/data/values_parse_string.jsonl
//
// The rendering (schema, then value with its Java class) is the one the Rust test writes.

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.data.Values;

public class ParseStringTable {
    static final String[] FRAGMENTS = {
        "0", "1", "7", "12", "127", "128", "-", "+", ".", "5", "e", "E", "e5", "e-3", ":", ",",
        "[", "]", "{", "}", "\"", "\\", " ", "  ", "\t", "true", "false", "null", "a", "x y", "Z",
        "T", "2024-01-02", "12:34:56.789Z", "1e20", "32767", "-32769", "2147483648",
        "9223372036854775808", "1.5", "0.1", "00", "é", "2024-02-30", "99", "\\:", "\\\"",
        "1970-01-01T00:00:00.000Z", "-0", "1e-50", "3.4028236e38", "NaN", "Infinity",
    };

    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> inputs = new ArrayList<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (!line.isBlank()) {
                inputs.add(json.readValue(line, String.class));
            }
        }
        Random random = new Random(4_3_0);
        for (int i = 0; i < 1500; i++) {
            StringBuilder s = new StringBuilder();
            int n = 1 + random.nextInt(9);
            for (int j = 0; j < n; j++) {
                s.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
            }
            inputs.add(s.toString());
        }
        String[] elements = {
            "1", "-1", "1000", "100000", "12345678901", "1.5", "1e300", "1e400", "0.1", "true", "null",
            "\"a\"", "\" \"", "\"2024-01-02\"", "2024-01-02", "12:34:56.789Z", "2024-01-02T12:34:56.789Z",
            "[]", "{}", "a", "\"x,y\"", "86400000", "-129", "9223372036854775807", "1e19", "[1]", "[\"a\"]",
            "{\"k\":1}", "{1:2}", "\"\\\"\"",
        };
        String[] separators = {",", ", ", " ,", ",,", ""};
        for (int i = 0; i < 800; i++) {
            boolean map = random.nextBoolean();
            StringBuilder s = new StringBuilder(map ? "{" : "[");
            int n = random.nextInt(4);
            for (int j = 0; j < n; j++) {
                if (j > 0) {
                    s.append(random.nextInt(10) == 0 ? separators[random.nextInt(separators.length)] : ",");
                }
                if (map) {
                    s.append(elements[random.nextInt(elements.length)]).append(random.nextInt(15) == 0 ? "" : ":");
                }
                s.append(elements[random.nextInt(elements.length)]);
            }
            s.append(random.nextInt(20) == 0 ? "" : map ? "}" : "]");
            inputs.add(s.toString());
        }
        inputs = new ArrayList<>(new java.util.LinkedHashSet<>(inputs));
        for (String input : inputs) {
            Map<String, String> row = new LinkedHashMap<>();
            row.put("input", input);
            row.put("expected", render(input));
            System.out.println(json.writeValueAsString(row));
        }
    }

    static String render(String input) {
        SchemaAndValue parsed;
        try {
            parsed = Values.parseString(input);
        } catch (Throwable t) {
            return "throws " + t.getClass().getSimpleName();
        }
        if (parsed == null) {
            return "null";
        }
        return schema(parsed.schema()) + " " + value(parsed.schema(), parsed.value());
    }

    static String schema(Schema s) {
        if (s == null) {
            return "-";
        }
        StringBuilder b = new StringBuilder(s.type().name());
        if (s.name() != null) {
            b.append('/').append(s.name().substring(s.name().lastIndexOf('.') + 1));
        }
        if (Decimal.LOGICAL_NAME.equals(s.name())) {
            b.append('(').append(s.parameters().get(Decimal.SCALE_FIELD)).append(')');
        }
        if (s.isOptional()) {
            b.append('?');
        }
        switch (s.type()) {
            case ARRAY:
                b.append('<').append(schema(s.valueSchema())).append('>');
                break;
            case MAP:
                b.append('<').append(schema(s.keySchema())).append(',').append(schema(s.valueSchema())).append('>');
                break;
            default:
                break;
        }
        return b.toString();
    }

    static final long DAY = 86_400_000L;

    static String logicalName(Schema s) {
        return s == null || s.name() == null ? "" : s.name();
    }

    // Ferry holds a logical value as its physical value under its schema (a Date the
    // days, a Time or Timestamp the milliseconds), so a value at a position whose schema
    // is Date, Time or Timestamp is shown as the date Ferry's value means there; and a
    // java.util.Date that position's schema cannot hold that way (no schema, another
    // schema, a Date schema off a day boundary, a Time beyond an int) is its milliseconds
    // as a Long (see ferry_core::java::values::parse_string).
    static String value(Schema s, Object v) {
        if (v == null) {
            return "null";
        }
        String logical = logicalName(s);
        if (v instanceof java.util.Date) {
            long millis = ((java.util.Date) v).getTime();
            return (held(logical) ? "Date:" : "Long:") + millis;
        }
        if (v instanceof Integer && logical.equals(org.apache.kafka.connect.data.Date.LOGICAL_NAME)) {
            return "Date:" + ((Integer) v) * DAY;
        }
        if (v instanceof Integer && logical.equals(Time.LOGICAL_NAME)) {
            return "Date:" + v;
        }
        if (v instanceof Long && held(logical)) {
            return "Date:" + v;
        }
        if (v instanceof String) {
            try {
                return "String:" + new ObjectMapper().writeValueAsString(v);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }
        if (v instanceof List) {
            StringBuilder b = new StringBuilder("[");
            for (Object e : (List<?>) v) {
                if (b.length() > 1) {
                    b.append(',');
                }
                b.append(value(s == null ? null : s.valueSchema(), e));
            }
            return b.append(']').toString();
        }
        if (v instanceof Map) {
            StringBuilder b = new StringBuilder("{");
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (b.length() > 1) {
                    b.append(',');
                }
                b.append(value(s == null ? null : s.keySchema(), e.getKey())).append('=');
                b.append(value(s == null ? null : s.valueSchema(), e.getValue()));
            }
            return b.append('}').toString();
        }
        // Floating-point values as their exact decimal value (Float.toString differs
        // between Java releases).
        if (v instanceof Float || v instanceof Double) {
            String exact = new java.math.BigDecimal(((Number) v).doubleValue()).stripTrailingZeros().toPlainString();
            return v.getClass().getSimpleName() + ":" + exact;
        }
        if (v instanceof byte[]) {
            return "Bytes:" + Base64.getEncoder().encodeToString((byte[]) v);
        }
        return v.getClass().getSimpleName() + ":" + v;
    }

    // An Int64 under a Date, Time or Timestamp schema is milliseconds in Ferry.
    static boolean held(String logical) {
        return logical.equals(Timestamp.LOGICAL_NAME) || logical.equals(Time.LOGICAL_NAME)
            || logical.equals(org.apache.kafka.connect.data.Date.LOGICAL_NAME);
    }
}
