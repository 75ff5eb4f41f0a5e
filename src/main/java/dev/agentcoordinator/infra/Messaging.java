package dev.agentcoordinator.infra;

import jakarta.jms.ConnectionFactory;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.messaginghub.pooled.jms.JmsPoolConnectionFactory;

import java.util.LinkedHashMap;
import java.util.Map;

/** The JMS connection factory to Artemis: the jakarta client behind a connection/session pool. */
public final class Messaging {

    /** The {@code callTimeout} added unless the URL sets one: see {@link #CLIENT_DEFAULTS}. */
    static final int CALL_TIMEOUT_MS = 10_000;

    /**
     * Client defaults; parameters already present in the configured URL are left as they are.
     * Reconnection, so that a broker restart costs a pause and not the coordinator: retry forever,
     * starting after 500 ms and backing off up to 5 s. Cached destinations: Spring's JmsTemplate
     * resolves the queue (and the reply-to queue) by name on every send, and without the cache the
     * Artemis client asks the broker whether the queue exists each time (ARTEMIS-1179), two
     * blocking round trips per request. A call timeout of 10 s (Artemis' default is 30 s): it bounds every call that
     * waits for the broker's answer (a commit, a durable send, creating a session or a queue, and the first call of a
     * reconnection, which asks the broker whether it may fail over). A broker killed and started again may take that
     * first call on a new connection and never answer it; the reconnecting connection, every session on it and every
     * thread waiting for its failover then stood still for the whole 30 s (a kill -9 of an external broker, restarted
     * 2.5 to 7 s later: in 1 run of 4 no step completed until 30 s after the kill). A call that times out fails its
     * connection, which reconnects: the transactions on it roll back and their messages are delivered again, as after a
     * broker restart. The price: a commit or durable send that a broker takes longer than 10 s to answer now fails that
     * way, where it used to wait up to 30 s. Set {@code callTimeout} in the URL to choose another bound.
     */
    static final Map<String, String> CLIENT_DEFAULTS = clientDefaults();

    private static Map<String, String> clientDefaults() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("reconnectAttempts", "-1");
        p.put("retryInterval", "500");
        p.put("retryIntervalMultiplier", "2.0");
        p.put("maxRetryInterval", "5000");
        p.put("cacheDestinations", "true");
        p.put("callTimeout", String.valueOf(CALL_TIMEOUT_MS));
        return p;
    }

    private Messaging() {
    }

    /** A pooled factory; stop it with {@link JmsPoolConnectionFactory#stop()} on shutdown. */
    public static JmsPoolConnectionFactory pooledConnectionFactory(String brokerUrl, String user, String password,
                                                                   int maxConnections) {
        JmsPoolConnectionFactory pool = new JmsPoolConnectionFactory();
        pool.setConnectionFactory(connectionFactory(brokerUrl, user, password));
        pool.setMaxConnections(maxConnections);
        return pool;
    }

    /**
     * The factory for agents consuming their requests: no prefetch (consumerWindowSize=0), so a consumer
     * busy with one request leaves the next to an idle one, and a request not yet taken stays on the
     * queue, where a cancel can take it back. Close it after the agents.
     */
    public static ActiveMQConnectionFactory agentConnectionFactory(String brokerUrl, String user, String password) {
        String url = brokerUrl.contains("consumerWindowSize=") ? brokerUrl
                : brokerUrl + (brokerUrl.contains("?") ? "&" : "?") + "consumerWindowSize=0";
        return noObjectDeserialization(new ActiveMQConnectionFactory(withClientDefaults(url), blankToNull(user), blankToNull(password)));
    }

    /**
     * No Java object is deserialized from what the broker delivers: the coordinator reads JSON text, and a JMS
     * ObjectMessage on agent.events or the reply queue was deserialized (Artemis trusts every class unless told otherwise)
     * just to be named in its dead letter or read as text, which runs whatever the sender's serialized object makes a
     * {@code readObject} do: a 1.5 KB message of nested HashSets held an event consumer for 12 s of CPU, and each level
     * more doubles it. Such a message is now refused unread ({@code getObject} throws, and its dead letter has no body).
     */
    static ActiveMQConnectionFactory noObjectDeserialization(ActiveMQConnectionFactory factory) {
        factory.setDeserializationDenyList("*");
        return factory;
    }

    /** The plain (unpooled) Artemis factory with the client defaults (reconnection, cached destinations). */
    public static ConnectionFactory connectionFactory(String brokerUrl, String user, String password) {
        return noObjectDeserialization(new ActiveMQConnectionFactory(withClientDefaults(brokerUrl), blankToNull(user), blankToNull(password)));
    }

    /**
     * A plain factory whose connections neither reconnect nor wait longer than {@code timeoutMs} for the broker
     * (connect and each call): for a probe or a request answered to a client, which must fail rather than wait
     * through an outage as the pooled connections do (their reconnection holds a call until the broker is back).
     */
    public static ActiveMQConnectionFactory boundedConnectionFactory(String brokerUrl, String user, String password, int timeoutMs) {
        return noObjectDeserialization(new ActiveMQConnectionFactory(withClientDefaults(boundedUrl(brokerUrl, timeoutMs)), blankToNull(user), blankToNull(password)));
    }

    /**
     * The URL with reconnection switched off and connect/call timeouts bounded. A broker that falls silent (a network
     * partition: no reset) is also given up on where no call times out (a browse reading what its consumer is sent):
     * the client pings it every timeout and checks once per connection TTL, two timeouts, that something came back, so
     * it gives up within two to four timeouts (Artemis's own defaults: a check period of 30 s, a TTL of 60 s). These
     * parameters come last, so they win over the same ones in {@code brokerUrl}.
     */
    static String boundedUrl(String brokerUrl, int timeoutMs) {
        char separator = brokerUrl.contains("?") ? '&' : '?';
        return brokerUrl + separator + "reconnectAttempts=0&initialConnectAttempts=1&retryInterval=100"
                + "&connectTimeoutMillis=" + timeoutMs + "&callTimeout=" + timeoutMs + "&clientFailureCheckPeriod=" + timeoutMs
                + "&connectionTTL=" + 2L * timeoutMs;
    }

    static String withClientDefaults(String brokerUrl) {
        StringBuilder url = new StringBuilder(brokerUrl);
        char separator = brokerUrl.contains("?") ? '&' : '?';
        for (Map.Entry<String, String> parameter : CLIENT_DEFAULTS.entrySet()) {
            if (!brokerUrl.contains(parameter.getKey() + "=")) {
                url.append(separator).append(parameter.getKey()).append('=').append(parameter.getValue());
                separator = '&';
            }
        }
        return url.toString();
    }

    /** Why the Artemis client cannot use {@code brokerUrl} (an unknown scheme, no URL at all), or null when it can. */
    public static String urlProblem(String brokerUrl) {
        if (!brokerUrl.contains("://")) {   // "foo": the client's parser failed on it with a NullPointerException
            return "it has no scheme (tcp://)";
        }
        try (ActiveMQConnectionFactory parsed = new ActiveMQConnectionFactory(brokerUrl)) {   // parses, connects nowhere
            // the client takes a URL without a port, or with one that is no number (tcp://host:notaport, read as none: -1),
            // and fails only when it connects, for good ("port out of range:-1")
            for (org.apache.activemq.artemis.api.core.TransportConfiguration connector : parsed.getStaticConnectors()) {
                Object port = connector.getParams().get("port");
                if ("-1".equals(String.valueOf(port))) {
                    return "a broker's port is missing or not a number (tcp://host:61616)";
                }
                if (port != null && !isPort(port.toString())) {
                    return "the port \"" + port + "\" is not a number from 1 to 65535";
                }
            }
            return null;
        } catch (Exception e) {
            Throwable cause = e;
            while (cause.getCause() != null && cause.getCause() != cause) {
                cause = cause.getCause();
            }
            String message = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
            return message.startsWith("Schema ") && message.endsWith(" not found") ? "the scheme " + message.substring(7, message.length() - 10)
                    + " is not one the Artemis client speaks (tcp, vm, udp, jgroups)" : message;
        }
    }

    private static boolean isPort(String port) {
        try {
            int number = Integer.parseInt(port);
            return number >= 1 && number <= 65535;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
