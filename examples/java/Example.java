import io.roche.NotFoundException;
import io.roche.Record;
import io.roche.Roche;
import io.roche.Scan;
import io.roche.Values;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** A tour of the Java binding: java -cp roche.jar:. Example DIR */
public class Example {
    public static void main(String[] args) {
        Path root = Path.of(args.length > 0 ? args[0] : "roche-example-data");
        Roche.Options options = Roche.Options.builder().buckets(4).build();

        try (Roche db = Roche.open(root, options)) {
            System.out.println("libroche " + Roche.version() + " at " + root);
            long first = db.append("events", "user-42", utf8("signed up"));
            long second = db.append("events", "user-42", utf8("bought a kettle"));
            long[] batch = db.appendMany("events", List.of(utf8("a"), utf8("b"), utf8("c")));
            System.out.println("appended at " + first + ", " + second + " and a batch of " + batch.length);
            long plain = db.append(utf8("no namespace: the default one"));
            System.out.println("get(" + plain + ") in the default namespace = " + text(db.get(plain)));

            System.out.println("get(" + second + ") = " + text(db.get("events", second)));

            Values values = db.multiGet("events", first, 12345, batch[2]);
            for (Values.Item item : values) {
                System.out.println("multiGet item " + item.index() + " at " + item.offset() + ": "
                        + (item.isOk() ? text(item.value()) : item.error().getClass().getSimpleName()));
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
            } catch (NotFoundException e) {
                System.out.println("not found, code " + e.code() + ": " + e.getMessage());
            }
            System.out.println("events: " + db.stat("events").records() + " records");
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
