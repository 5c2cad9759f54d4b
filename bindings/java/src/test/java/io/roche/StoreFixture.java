package io.roche;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** What each suite starts from: a fresh store under a temporary directory, closed after the test. */
abstract class StoreFixture {
    @TempDir
    Path dir;
    Path root;
    Roche db;

    @BeforeEach
    void open() {
        root = dir.resolve("store");
        db = Roche.open(root);
    }

    @AfterEach
    void close() {
        db.close();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
