package dev.agentcoordinator.tools;

import dev.agentcoordinator.engine.Json;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.security.Role;
import org.apache.activemq.artemis.core.config.impl.SecurityConfiguration;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.activemq.artemis.spi.core.security.ActiveMQJAASSecurityManager;
import org.apache.activemq.artemis.spi.core.security.jaas.InVMLoginModule;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SendEvent against a broker that requires a login: its password from {@code COORDINATOR_BROKER_PASSWORD} or, as the
 * coordinator takes it, from the file {@code COORDINATOR_BROKER_PASSWORD_FILE} names (a mounted secret).
 */
class SendEventBrokerLoginTest {

    private static final String URL = "vm://4417";
    private static final String USER = "coordinator";
    private static final String PASSWORD = "the-right-one";

    private EmbeddedActiveMQ broker;   // one per test: each reads agent.events from empty

    @TempDir
    Path tmp;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void startABrokerThatRequiresALogin() throws Exception {
        SecurityConfiguration users = new SecurityConfiguration();
        users.addUser(USER, PASSWORD);
        users.addRole(USER, "admin");
        broker = new EmbeddedActiveMQ()
                .setConfiguration(new ConfigurationImpl().setPersistenceEnabled(false).setSecurityEnabled(true)
                        .addAcceptorConfiguration("in-vm", URL)
                        // every permission (send, consume, create and delete queues and addresses, manage, browse, view, edit)
                        .putSecurityRoles("#", Set.of(new Role("admin", true, true, true, true, true, true, true, true, true, true, true, true))))
                .setSecurityManager(new ActiveMQJAASSecurityManager(InVMLoginModule.class.getName(), users));
        broker.start();
    }

    @AfterEach
    void stopTheBroker() throws Exception {
        broker.stop();
    }

    private int send(Map<String, String> env) {
        return SendEvent.run(new String[] {"MARKET_UPDATE", "{\"sector\": \"cloud\"}"}, env,
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String error() {
        return err.toString(StandardCharsets.UTF_8).trim();
    }

    @Test
    void thePasswordIsReadFromTheFileCoordinatorBrokerPasswordFileNames() throws Exception {
        Path secret = Files.writeString(tmp.resolve("broker-password"), PASSWORD + "\n");   // echo's line break is no part of it

        assertThat(send(Map.of("COORDINATOR_BROKER_URL", URL, "COORDINATOR_BROKER_USER", USER,
                "COORDINATOR_BROKER_PASSWORD_FILE", secret.toString()))).as(error()).isZero();

        assertThat(receivedEventId()).isEqualTo(out.toString(StandardCharsets.UTF_8).trim());
    }

    @Test
    void aPasswordFileThatCannotBeReadSendsNothingAndNamesTheVariableAndThePath() {
        Path missing = tmp.resolve("no-such-secret");

        assertThat(send(Map.of("COORDINATOR_BROKER_URL", URL, "COORDINATOR_BROKER_USER", USER,
                "COORDINATOR_BROKER_PASSWORD_FILE", missing.toString()))).isEqualTo(2);

        assertThat(error()).isEqualTo("not sent: invalid setting coordinator.broker.password (from environment variable"
                + " COORDINATOR_BROKER_PASSWORD_FILE): cannot read the file " + missing + ": no such file");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void aPasswordGivenAndNamedAsAFileIsRefusedWithoutTellingIt() throws Exception {
        Path secret = Files.writeString(tmp.resolve("broker-password"), PASSWORD);

        assertThat(send(Map.of("COORDINATOR_BROKER_URL", URL, "COORDINATOR_BROKER_USER", USER,
                "COORDINATOR_BROKER_PASSWORD", "another-one", "COORDINATOR_BROKER_PASSWORD_FILE", secret.toString()))).isEqualTo(2);

        assertThat(error()).isEqualTo("not sent: invalid setting coordinator.broker.password (from environment variable"
                + " COORDINATOR_BROKER_PASSWORD): environment variable COORDINATOR_BROKER_PASSWORD_FILE names a file for it too:"
                + " set one of them").doesNotContain("another-one").doesNotContain(PASSWORD);
    }

    @Test
    void thePasswordInTheEnvironmentStillLogsIn() throws Exception {
        assertThat(send(Map.of("COORDINATOR_BROKER_URL", URL, "COORDINATOR_BROKER_USER", USER,
                "COORDINATOR_BROKER_PASSWORD", PASSWORD))).as(error()).isZero();
        assertThat(receivedEventId()).isEqualTo(out.toString(StandardCharsets.UTF_8).trim());
    }

    @Test
    void aWrongPasswordFromTheFileIsRefusedByTheBroker() throws Exception {
        Path secret = Files.writeString(tmp.resolve("broker-password"), "a-wrong-one");

        assertThat(send(Map.of("COORDINATOR_BROKER_URL", URL, "COORDINATOR_BROKER_USER", USER,
                "COORDINATOR_BROKER_PASSWORD_FILE", secret.toString()))).isEqualTo(1);

        assertThat(error()).contains("AMQ229031").doesNotContain("a-wrong-one");
    }

    /** The event_id of the event on agent.events, read with the broker's login. */
    private static String receivedEventId() throws Exception {
        try (Connection connection = new ActiveMQConnectionFactory(URL, USER, PASSWORD).createConnection();
             Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE)) {
            connection.start();
            MessageConsumer consumer = session.createConsumer(session.createQueue("agent.events"));
            TextMessage message = (TextMessage) consumer.receive(30_000);
            assertThat(message).as("the event on agent.events").isNotNull();
            return Json.parse(message.getText()).path("event_id").asText();
        }
    }
}
