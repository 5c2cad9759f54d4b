import io.roche.Record;
import io.roche.Roche;
import io.roche.RocheException;
import io.roche.Scan;
import io.roche.Values;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** A tour of the Java binding: java -cp roche.jar:. Example DIR */
public class Example {
    public static void main(String[] args) {
        Path root = Path.of(args.length > 0 ? args[0] : "roche-example-data");
        Roche.Options options = Roche.Options.builder().buckets(4).build();

        try (Roche db = Roche.open(root, options)) {
            System.out.println("libroche " + Roche.version() + " at " + root);
            long first = db.append("events", "user-42", utf8("signed up"));
            long second = db.append("events", "user-42", utf8("bought a kettle"));
            long[] batch = db.appendMany("events", null, utf8("a"), utf8("b"), utf8("c"));
            System.out.println("appended at " + first + ", " + second + " and a batch of " + batch.length);

            System.out.println("get(" + second + ") = " + text(db.get("events", second)));

            Values values = db.multiGet("events", first, 12345, batch[2]);
            for (int i = 0; i < values.size(); i++) {
                System.out.println("multiGet item " + i + ": "
                        + (values.isOk(i) ? text(values.get(i)) : "error " + values.status(i)));
            }

            long last = -1;
            try (Scan scan = db.scan("events", 0)) {
                for (int i = 0; i < 2 && scan.hasNext(); i++) {
                    Record record = scan.next();
                    last = record.offset();
                    System.out.println("scan " + record.offset() + " = " + text(record.value()));
                }
            }
            try (var rest = db.stream("events", last + 1)) {
                System.out.println("resumed after " + last + ": " + rest.count() + " more records");
            }

            try {
                db.get("events", 99_999);
            } catch (RocheException.NotFoundException e) {
                System.out.println("not found, code " + e.code() + ": " + e.getMessage());
            }
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
