package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class SqlTest {

    @Test
    void countsTheNamedParametersOfAStatement() {
        assertThat(Sql.parameterCount("start-due-retries")).isEqualTo(3);   // :#sweepLimit three times: each is a JDBC parameter
        assertThat(Sql.parameterCount("expire-attempts")).isEqualTo(3);
    }

    /**
     * camel-sql asks PostgreSQL for the parameter count of a statement that has none (two round trips
     * per run), so the statements that run often all take one; only these run rarely (a sweep, and listings an
     * operator asks for).
     */
    @Test
    void onlyRareStatementsGoWithoutParameters() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("src/main/resources/sql"))) {
            assertThat(files.map(f -> f.getFileName().toString())
                    .filter(name -> name.endsWith(".sql"))
                    .map(name -> name.substring(0, name.length() - 4))
                    .filter(name -> Sql.parameterCount(name) == 0))
                    .containsExactlyInAnyOrder("delete-stale-joins", "list-locks", "agent-attempts-running",
                            "executions-in-flight-by-version");
        }
    }
}
