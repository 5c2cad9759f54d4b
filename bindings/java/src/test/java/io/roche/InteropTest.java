package io.roche;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data written from Java read by C (roche_interop), and the reverse. */
class InteropTest {
    @TempDir
    Path root;

    static final byte[][] VALUES = {new byte[0], {0}, {0, 1, 2, (byte) 0xff, 0}, "hello".getBytes(StandardCharsets.UTF_8)};

    private static List<String> interop(String... args) throws IOException, InterruptedException {
        String program = System.getenv("ROCHE_INTEROP");
        assumeTrue(program != null, "ROCHE_INTEROP is not set (ctest sets it)");
        List<String> command = new ArrayList<>(List.of(program));
        command.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "roche_interop " + String.join(" ", args));
        return out.isEmpty() ? List.of() : Arrays.asList(out.split("\n", -1)).subList(0, out.split("\n", -1).length - 1);
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x", x & 0xff));
        }
        return s.toString();
    }

    @Test
    void cReadsWhatJavaWrote() throws Exception {
        List<String> args = new ArrayList<>(List.of("read", root.toString(), "j"));
        try (Roche db = Roche.open(root)) {
            for (byte[] v : VALUES) {
                args.add(Long.toString(db.append("j", null, v)));
            }
            args.add("999999");
            // The writer stays open: C reads through a read-only handle beside it.
            List<String> lines = interop(args.toArray(new String[0]));
            assertEquals(VALUES.length + 1, lines.size());
            for (int i = 0; i < VALUES.length; i++) {
                assertEquals(hex(VALUES[i]), lines.get(i));
            }
            assertEquals("ERR " + RocheException.ENOTFOUND, lines.get(VALUES.length));
        }
    }

    @Test
    void javaReadsWhatCWrote() throws Exception {
        List<String> args = new ArrayList<>(List.of("write", root.toString(), "c"));
        for (byte[] v : VALUES) {
            args.add(hex(v));
        }
        List<String> offsets = interop(args.toArray(new String[0]));
        assertEquals(VALUES.length, offsets.size());
        try (Roche db = Roche.open(root, Roche.Options.builder().readOnly(true).build())) {
            for (int i = 0; i < VALUES.length; i++) {
                assertArrayEquals(VALUES[i], db.get("c", Long.parseLong(offsets.get(i))));
            }
        }
    }
}
