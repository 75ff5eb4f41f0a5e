package dev.agentcoordinator.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CoordinatorSettingsTest {

    @Test
    void defaultsApplyWhenNothingIsSet() {
        CoordinatorSettings settings = CoordinatorSettings.fromSources(List.of());

        assertThat(settings.embeddedBroker()).isTrue();
        assertThat(settings.embeddedDatabase()).isTrue();
        assertThat(settings.brokerEmbeddedPort()).isEqualTo(61616);
        assertThat(settings.dbEmbeddedPort()).isZero();
        assertThat(settings.dbPoolSize()).isEqualTo(10);
        assertThat(settings.httpHost()).isEqualTo("127.0.0.1");
        assertThat(settings.httpPort()).isEqualTo(8080);
        assertThat(settings.workflowsDir()).isEqualTo(Path.of("routes/workflows"));
        assertThat(settings.brokerEmbeddedDataDir()).isEqualTo(Path.of("./data/artemis"));
        assertThat(settings.dbEmbeddedDataDir()).isEqualTo(Path.of("./data/postgres"));
        assertThat(settings.demoAgentsEnabled()).isTrue();
        assertThat(settings.jmsConcurrentConsumers()).isEqualTo(4);
        assertThat(settings.jmsMaxConcurrentConsumers()).isEqualTo(8);
        assertThat(settings.jmsPoolMaxConnections()).isEqualTo(4);
        assertThat(settings.replyQueue()).isEqualTo("coordinator.replies");
        assertThat(settings.logFormat()).isEqualTo(CoordinatorSettings.LogFormat.PLAIN);
    }

    @Test
    void higherLayersWinAndEnvironmentNamesAreUpperSnakeCase() {
        CoordinatorSettings settings = CoordinatorSettings.fromSources(List.of(
                SettingsSource.of("overrides", Map.of("http.port", "9001")),
                SettingsSource.environment(Map.of(
                        "COORDINATOR_HTTP_PORT", "9002",
                        "COORDINATOR_BROKER_EMBEDDED_DATA_DIR", "/var/artemis",
                        "COORDINATOR_DEMO_AGENTS_ENABLED", "false")),
                SettingsSource.of("file", Map.of("coordinator.http.port", "9003", "coordinator.data.dir", "/srv/data"))));

        assertThat(settings.httpPort()).isEqualTo(9001);
        assertThat(settings.brokerEmbeddedDataDir()).isEqualTo(Path.of("/var/artemis"));
        assertThat(settings.dbEmbeddedDataDir()).isEqualTo(Path.of("/srv/data/postgres"));
        assertThat(settings.demoAgentsEnabled()).isFalse();
        assertThat(settings.get("coordinator.data.dir")).isEqualTo("/srv/data");
    }

    @Test
    void aMigrationUrlNeedsADatabaseOfYourOwn() {
        assertThat(CoordinatorSettings.fromMap(Map.of("db.url", "jdbc:postgresql://pgbouncer:6432/coordinator?prepareThreshold=0",
                "db.migration-url", "jdbc:postgresql://postgres:5432/coordinator")).dbMigrationUrl())
                .isEqualTo("jdbc:postgresql://postgres:5432/coordinator");
        assertThat(CoordinatorSettings.fromSources(List.of()).dbMigrationUrl()).isEmpty();
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("db.migration-url", "jdbc:postgresql://postgres:5432/coordinator")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid setting coordinator.db.migration-url")
                .hasMessageContaining("the embedded database is migrated directly");
    }

    /** A URL the JDBC driver does not take is refused before anything starts, its password hidden. */
    @Test
    void aDatabaseUrlThatIsNotAPostgresqlJdbcUrlIsRefusedAtOnce() {
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("db.url", "postgres://app:s3cret@db:5432/coordinator")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("invalid setting coordinator.db.url (from overrides): must be a PostgreSQL JDBC URL,"
                        + " jdbc:postgresql://host:5432/database, got \"postgres://app:****@db:5432/coordinator\" (a libpq URL: the user"
                        + " and password go in coordinator.db.user and coordinator.db.password)");
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("db.url", "jdbc:postgresql://db/c", "db.migration-url", "jdbc:mysql://db/c")))
                .hasMessageContaining("invalid setting coordinator.db.migration-url");
    }

    @Test
    void fromMapOverridesEverythingAndAcceptsShortKeys() {
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of("http.port", "0", "coordinator.db.pool.size", "3"));

        assertThat(settings.httpPort()).isZero();
        assertThat(settings.dbPoolSize()).isEqualTo(3);
        assertThat(settings.with(Map.of("http.port", "1234")).httpPort()).isEqualTo(1234);
    }

    @Test
    void anInvalidValueIsReportedWithItsKeyAndWhereItCameFrom() {
        assertThatThrownBy(() -> CoordinatorSettings.fromSources(List.of(
                SettingsSource.environment(Map.of("COORDINATOR_HTTP_PORT", "eighty")))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("coordinator.http.port")
                .hasMessageContaining("environment variable COORDINATOR_HTTP_PORT")
                .hasMessageContaining("'eighty' is not an integer");

        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("log.format", "xml")))
                .hasMessageContaining("coordinator.log.format")
                .hasMessageContaining("plain|json");
    }

    @Test
    void theEmbeddedBrokersJournalWaitIsInMicrosecondsAndPositive() {
        assertThat(CoordinatorSettings.fromMap(Map.of()).brokerJournalBufferTimeoutUs()).isEqualTo(200);
        assertThat(CoordinatorSettings.fromMap(Map.of("broker.embedded.journal-buffer-timeout-us", "3333"))
                .brokerJournalBufferTimeoutUs()).isEqualTo(3333);
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("broker.embedded.journal-buffer-timeout-us", "0")))
                .hasMessageContaining("coordinator.broker.embedded.journal-buffer-timeout-us");
    }

    @Test
    void retentionIsOffByDefaultAndNeverNegative() {
        assertThat(CoordinatorSettings.fromMap(Map.of()).retentionDays()).isZero();
        assertThat(CoordinatorSettings.fromMap(Map.of("retention.days", "30")).retentionDays()).isEqualTo(30);
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("retention.days", "-1")))
                .hasMessageContaining("coordinator.retention.days").hasMessageContaining("-1 must be 0 or more");
        // a span PostgreSQL's timestamps cannot reach back to failed every sweep with "timestamp out of range"
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("retention.days", "2147483647")))
                .hasMessageContaining("coordinator.retention.days").hasMessageContaining("2147483647 must be at most 36500");
        assertThat(CoordinatorSettings.fromMap(Map.of("retention.days", "36500")).retentionDays()).isEqualTo(36500);
    }

    /** An IPv4 address that is none was told only that it needs a password (not being a loopback address). */
    @Test
    void anHttpHostWrittenAsAnAddressIsOne() {
        assertThat(CoordinatorSettings.fromMap(Map.of("http.host", "127.0.0.1")).httpHost()).isEqualTo("127.0.0.1");
        for (String host : List.of("999.1.1.1", "1.2.3", "1..2.3")) {
            assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("http.host", host)))
                    .hasMessageContaining("coordinator.http.host").hasMessageContaining("got \"" + host + "\"");
        }
    }

    /** An empty reply queue passed, and the start died resolving the endpoint "jms://queue:" (String index out of range: 0). */
    @Test
    void aReplyQueueIsAQueueName() {
        assertThat(CoordinatorSettings.fromMap(Map.of("reply.queue", "my.replies")).replyQueue()).isEqualTo("my.replies");
        for (String name : List.of("", " ", " spaced", "q?x=1")) {
            assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("reply.queue", name)))
                    .hasMessageContaining("coordinator.reply.queue").hasMessageContaining("must be a queue name");
        }
    }

    /** A broker URL the Artemis client cannot use is refused up front, as a database URL that is not JDBC is. */
    @Test
    void aBrokerUrlTheClientCannotUseIsInvalid() {
        for (String url : List.of("tcp://broker:61616", "(tcp://a:61616,tcp://b:61616)?ha=true", "tcp://broker:61616?callTimeout=5000")) {
            assertThat(CoordinatorSettings.fromMap(Map.of("broker.url", url)).brokerUrl()).isEqualTo(url);
        }
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("broker.url", "foo://bar")))
                .hasMessageContaining("coordinator.broker.url").hasMessageContaining("got \"foo://bar\": the scheme foo is not one the Artemis client speaks");
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("broker.url", "amqp://broker:5672")))
                .hasMessageContaining("coordinator.broker.url").hasMessageContaining("the scheme amqp");
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("broker.url", "broker:61616")))
                .hasMessageContaining("coordinator.broker.url");
        // the client's parser failed on it with a NullPointerException, which was all the message said
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("broker.url", "foo")))
                .hasMessageContaining("coordinator.broker.url").hasMessageContaining("got \"foo\": it has no scheme (tcp://)");
        // the client takes these, and then never connects
        for (String url : List.of("tcp://127.0.0.1:notaport", "tcp://broker")) {
            assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("broker.url", url)))
                    .hasMessageContaining("coordinator.broker.url").hasMessageContaining("a broker's port is missing or not a number (tcp://host:61616)");
        }
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("broker.url", "(tcp://a:61616,tcp://b:99999)")))
                .hasMessageContaining("the port \"99999\"");
    }

    /** More event deliveries than the embedded broker makes would never be reached: its DLA would take the event first, without a reason. */
    @Test
    void theEventDeliveriesAreBoundByTheEmbeddedBrokers() {
        assertThat(CoordinatorSettings.fromMap(Map.of("events.max-deliveries", "10")).eventsMaxDeliveries()).isEqualTo(10);
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("events.max-deliveries", "11")))
                .hasMessage("invalid setting coordinator.events.max-deliveries (from overrides): 11 must be at most the embedded broker's 10"
                        + " deliveries, after which it moves a message to DLA");
        // a standalone broker's own limit is its operator's to keep above it
        assertThat(CoordinatorSettings.fromMap(Map.of("events.max-deliveries", "20", "broker.url", "tcp://broker:61616")).eventsMaxDeliveries())
                .isEqualTo(20);
    }

    /** Every problem is told at once, a line each, so that a wrong configuration is not mended one start at a time. */
    @Test
    void everyInvalidSettingIsToldAtOnce() {
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(new java.util.TreeMap<>(Map.of("http.port", "abc", "retention.days", "-3",
                "log.format", "xml", "jms.max-concurrent-consumers", "x"))))
                .hasMessage(String.join("\n",
                        "invalid setting coordinator.http.port (from overrides): 'abc' is not an integer",
                        "invalid setting coordinator.jms.max-concurrent-consumers (from overrides): 'x' is not an integer",
                        "invalid setting coordinator.log.format (from overrides): 'xml' is not one of plain|json",
                        "invalid setting coordinator.retention.days (from overrides): -3 must be 0 or more"));
    }

    /** Settings a library would refuse only once the broker and the database have started are refused first, by name. */
    @Test
    void theLockPrioritiesAndThePoolsConnectionTimeoutAreCheckedBeforeAnythingStarts() {
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("locks.priorities", "architect")))
                .hasMessageContaining("invalid setting coordinator.locks.priorities").hasMessageContaining("\"architect\" is not agent:priority");
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("db.pool.connection-timeout-ms", "100")))
                .hasMessageContaining("invalid setting coordinator.db.pool.connection-timeout-ms").hasMessageContaining("100 must be at least 250");
        assertThat(CoordinatorSettings.fromMap(Map.of("db.pool.connection-timeout-ms", "250", "locks.priorities", "")).get("coordinator.locks.priorities")).isEmpty();
    }

    /** The bytes of a body read: 40 MiB by default (a TextMessage of the 20 million characters read), at least 1024. */
    @Test
    void theBytesOfABodyReadAreAtLeast1024AndByDefault40MiB() {
        assertThat(CoordinatorSettings.fromMap(Map.of()).inputMaxMessageBytes()).isEqualTo(40 * 1024 * 1024);
        assertThat(CoordinatorSettings.fromMap(Map.of("input.max-message-bytes", "1024")).inputMaxMessageBytes()).isEqualTo(1024);
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("input.max-message-bytes", "1000")))
                .hasMessageContaining("coordinator.input.max-message-bytes").hasMessageContaining("1000 must be at least 1024");
    }

    @Test
    void theSweepPeriodAndTheMessageResponseTimeoutArePositiveIntegers() {
        CoordinatorSettings defaults = CoordinatorSettings.fromMap(Map.of());
        assertThat(defaults.supervisorPeriodMs()).isEqualTo(200);
        assertThat(defaults.messagesResponseTimeoutMs()).isEqualTo(30_000);
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("supervisor.period-ms", "-1")))
                .hasMessageContaining("coordinator.supervisor.period-ms").hasMessageContaining("-1 must be at least 1");
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("messages.response-timeout-ms", "30s")))
                .hasMessageContaining("coordinator.messages.response-timeout-ms").hasMessageContaining("'30s' is not an integer");
    }

    @Test
    void anUnknownKeyInAFileOrASystemPropertyIsRefusedWithTheKnownOneItResembles(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("coordinator.properties");
        java.nio.file.Files.writeString(file, "coordinator.retention.day=30\ncamel.main.name=other\n");
        assertThatThrownBy(() -> CoordinatorSettings.load(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown setting coordinator.retention.day (from " + file + "): did you mean coordinator.retention.days?");

        java.nio.file.Files.writeString(file, "coordinator.no-such-thing-at-all=1\n");
        assertThatThrownBy(() -> CoordinatorSettings.load(file)).hasMessage("unknown setting coordinator.no-such-thing-at-all (from " + file + ")");

        // known keys, the instance id, and keys of other tools are accepted
        java.nio.file.Files.writeString(file, "coordinator.http.port=9090\ncoordinator.instance-id=a\ncamel.main.name=x\n");
        assertThat(CoordinatorSettings.load(file).httpPort()).isEqualTo(9090);

        System.setProperty("coordinator.htp.port", "1");
        try {
            assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of()))
                    .hasMessage("unknown setting coordinator.htp.port (from system properties): did you mean coordinator.http.port?");
        } finally {
            System.clearProperty("coordinator.htp.port");
        }
        // the environment is shared with other tools: not checked
        assertThat(CoordinatorSettings.fromSources(List.of(SettingsSource.environment(Map.of("COORDINATOR_CDS", "off"))))
                .httpPort()).isEqualTo(8080);
    }

    @Test
    void passwordsAreMaskedInToString() {
        assertThat(CoordinatorSettings.fromMap(Map.of("db.password", "secret")).toString())
                .doesNotContain("secret").contains("db.password=****");
    }

    /** A mounted secret (Kubernetes, Docker, systemd credentials) is read from its file, without its trailing line break. */
    @Test
    void aPasswordIsReadFromTheFileItsFileSettingNames(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path db = java.nio.file.Files.writeString(tmp.resolve("db"), "s3cret \n");
        Path broker = java.nio.file.Files.writeString(tmp.resolve("broker"), "from-a-file\r\n");
        Path http = java.nio.file.Files.writeString(tmp.resolve("http"), "no-line-break");
        Path properties = java.nio.file.Files.writeString(tmp.resolve("coordinator.properties"),
                "coordinator.http.host=0.0.0.0\ncoordinator.http.password.file=" + http + "\ncoordinator.broker.password=in-the-file\n");

        CoordinatorSettings settings = CoordinatorSettings.fromSources(List.of(
                SettingsSource.environment(Map.of("COORDINATOR_DB_PASSWORD_FILE", db.toString(),
                        "COORDINATOR_BROKER_PASSWORD_FILE", broker.toString())),
                SettingsSource.file(properties)));

        assertThat(settings.dbPassword()).isEqualTo("s3cret ");
        assertThat(settings.brokerPassword()).isEqualTo("from-a-file");   // the environment's file outranks the properties' value
        assertThat(settings.httpPassword()).isEqualTo("no-line-break");
        assertThat(settings.httpAuthenticationEnabled()).isTrue();
        assertThat(settings.get("db.password")).isEqualTo("s3cret ");
        assertThat(settings.toString()).doesNotContain("s3cret").doesNotContain("from-a-file").doesNotContain("no-line-break");
        // a value in a higher layer outranks a file in a lower one; an empty file name is none
        assertThat(settings.with(Map.of("db.password", "given")).dbPassword()).isEqualTo("given");
        assertThat(CoordinatorSettings.fromSources(List.of(SettingsSource.environment(Map.of("COORDINATOR_DB_PASSWORD_FILE", "",
                "COORDINATOR_DB_PASSWORD", "plain")))).dbPassword()).isEqualTo("plain");
    }

    @Test
    void aSecretFileThatCannotBeReadIsAnInvalidSettingNamingItsPath(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path missing = tmp.resolve("no-such-secret");
        assertThatThrownBy(() -> CoordinatorSettings.fromSources(List.of(
                SettingsSource.environment(Map.of("COORDINATOR_DB_PASSWORD_FILE", missing.toString())))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("invalid setting coordinator.db.password (from environment variable COORDINATOR_DB_PASSWORD_FILE):"
                        + " cannot read the file " + missing + ": no such file");
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("broker.password.file", tmp.toString())))
                .hasMessageStartingWith("invalid setting coordinator.broker.password (from overrides): cannot read the file " + tmp + ": ");
        // no second problem claiming that no password is set
        assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("http.host", "0.0.0.0", "http.password.file", missing.toString())))
                .hasMessage("invalid setting coordinator.http.password (from overrides): cannot read the file " + missing + ": no such file");

        Path unreadable = java.nio.file.Files.writeString(tmp.resolve("unreadable"), "s3cret");
        java.nio.file.Files.setPosixFilePermissions(unreadable, java.util.Set.of());
        if (!java.nio.file.Files.isReadable(unreadable)) {   // root reads it anyway
            assertThatThrownBy(() -> CoordinatorSettings.fromMap(Map.of("db.password.file", unreadable.toString())))
                    .hasMessageEndingWith("cannot read the file " + unreadable + ": permission denied");
        }
    }

    @Test
    void aPasswordGivenAndNamedAsAFileInTheSameLayerIsRefused(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path db = java.nio.file.Files.writeString(tmp.resolve("db"), "s3cret");
        assertThatThrownBy(() -> CoordinatorSettings.fromSources(List.of(SettingsSource.environment(Map.of(
                "COORDINATOR_DB_PASSWORD", "other", "COORDINATOR_DB_PASSWORD_FILE", db.toString())))))
                .hasMessage("invalid setting coordinator.db.password (from environment variable COORDINATOR_DB_PASSWORD): environment"
                        + " variable COORDINATOR_DB_PASSWORD_FILE names a file for it too: set one of them");
    }

    @Test
    void onlyTheSecretsHaveAFileSetting(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("coordinator.properties");
        java.nio.file.Files.writeString(file, "coordinator.db.password.file=" + java.nio.file.Files.writeString(tmp.resolve("db"), "x")
                + "\ncoordinator.db.user.file=/run/secrets/user\n");
        assertThatThrownBy(() -> CoordinatorSettings.load(file))
                .hasMessageStartingWith("unknown setting coordinator.db.user.file (from " + file + ")");
    }
}
