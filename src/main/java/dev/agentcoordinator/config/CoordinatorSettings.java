package dev.agentcoordinator.config;



import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The coordinator's settings, immutable once built. Every setting is named {@code coordinator.*}
 * and is looked up in these layers, the first that has it wins:
 * <ol>
 *   <li>overrides given to {@link #fromMap(Map)} (tests)</li>
 *   <li>system properties ({@code -Dcoordinator.http.port=9090})</li>
 *   <li>environment variables, upper snake case ({@code COORDINATOR_HTTP_PORT=9090})</li>
 *   <li>{@code --config FILE}, else {@code ./coordinator.properties} when present</li>
 *   <li>{@code application.properties} on the classpath</li>
 *   <li>the defaults in {@link #DEFAULTS}</li>
 * </ol>
 * An empty {@code broker.url} / {@code db.url} means "start an embedded broker / database". The passwords may be
 * read from a file named in any layer instead ({@link #SECRET_KEYS}).
 */
public final class CoordinatorSettings {

    public enum LogFormat { PLAIN, JSON }

    /** Every known setting with its default, in the order the README documents them. */
    public static final Map<String, String> DEFAULTS = defaults();

    private static Map<String, String> defaults() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("coordinator.broker.url", "");
        d.put("coordinator.broker.user", "");
        d.put("coordinator.broker.password", "");
        d.put("coordinator.broker.embedded.port", "61616");
        d.put("coordinator.broker.embedded.data-dir", "");       // empty: <data.dir>/artemis
        d.put("coordinator.broker.embedded.journal-buffer-timeout-us", "200"); // longest wait to batch journal syncs
        d.put("coordinator.db.url", "");
        d.put("coordinator.db.migration-url", "");                // empty: migrate through coordinator.db.url
        d.put("coordinator.db.user", "postgres");
        d.put("coordinator.db.password", "");
        d.put("coordinator.db.pool.size", "10");
        d.put("coordinator.db.pool.connection-timeout-ms", "30000"); // how long a statement waits for a connection
        d.put("coordinator.db.socket-timeout-ms", "60000");      // longest wait for PostgreSQL's answer; 0: none
        d.put("coordinator.db.start-wait-ms", "60000");          // a start waits this long for a database of its own not up yet
        d.put("coordinator.db.embedded.port", "0");
        d.put("coordinator.db.embedded.data-dir", "");           // empty: <data.dir>/postgres
        d.put("coordinator.http.host", "127.0.0.1");
        d.put("coordinator.http.port", "8080");
        d.put("coordinator.http.user", "coordinator");
        d.put("coordinator.http.password", "");                   // empty: no authentication, loopback only
        d.put("coordinator.http.db-timeout-ms", "10000");         // an API call's wait for a connection, and for each answer
        d.put("coordinator.http.idle-timeout-ms", "60000");       // a connection that sends and receives nothing is closed; 0: never
        d.put("coordinator.http.header-timeout-ms", "20000");     // a request's line and headers must all arrive within; 0: no bound
        d.put("coordinator.workflows.dir", "routes/workflows");
        d.put("coordinator.workflows.watch", "false");            // reload the folder when a file in it changes
        d.put("coordinator.workflows.reload-wait-ms", "10000");   // how long a reload waits for the other coordinators' answers
        d.put("coordinator.data.dir", "./data");
        d.put("coordinator.demo-agents.enabled", "true");
        d.put("coordinator.jms.concurrent-consumers", "4");
        d.put("coordinator.jms.max-concurrent-consumers", "8");
        d.put("coordinator.jms.pool.max-connections", "4");
        d.put("coordinator.jms.receive-timeout-ms", "1000");      // an idle consumer's wait in one receive (Spring's default)
        d.put("coordinator.events.max-deliveries", "10");         // at most the broker's max-delivery-attempts
        d.put("coordinator.chain.max-depth", "16");               // onSuccess / onFailure events in a row; 0: no limit
        d.put("coordinator.input.max-json-tokens", "1000000");    // JSON tokens read from one event or step reply
        d.put("coordinator.input.max-message-bytes", "41943040"); // bytes of one event's or step reply's body (40 MiB)
        d.put("coordinator.reply.queue", "coordinator.replies");
        d.put("coordinator.supervisor.period-ms", "200");         // timeouts and retries sweep; 50 of them: the stall sweeps
        d.put("coordinator.messages.response-timeout-ms", "30000"); // agent messages awaiting a response
        d.put("coordinator.locks.priorities", "strategist:5,architect:4,sentinel:3,interviewer:2,action:1");
        d.put("coordinator.log.format", "plain");
        d.put("coordinator.health.timeout-ms", "2000");           // bound on one broker / database check
        d.put("coordinator.metrics.refresh-ms", "10000");         // in-flight and queue-depth gauges
        d.put("coordinator.demo-agents.concurrency", "4");        // consumers per demo agent
        d.put("coordinator.retention.days", "0");                  // 0: keep every settled execution
        d.put("coordinator.retention.period-ms", "10000");         // how often the retention sweep runs
        d.put("coordinator.versions.retire-period-ms", "60000");   // how often unused versions' routes are looked for
        return Collections.unmodifiableMap(d);
    }

    private static final String LOCAL_CONFIG_FILE = "coordinator.properties";

    private final List<SettingsSource> sources;   // highest priority first, defaults excluded
    private final Map<String, String> values;     // every known setting, resolved

    private final int brokerEmbeddedPort;
    private final int brokerJournalBufferTimeoutUs;
    private final int dbPoolSize;
    private final int dbPoolConnectionTimeoutMs;
    private final int dbSocketTimeoutMs;
    private final int dbStartWaitMs;
    private final int httpDbTimeoutMs;
    private final int httpIdleTimeoutMs;
    private final int httpHeaderTimeoutMs;
    private final int dbEmbeddedPort;
    private final int httpPort;
    private final int jmsConcurrentConsumers;
    private final int jmsMaxConcurrentConsumers;
    private final int jmsPoolMaxConnections;
    private final int jmsReceiveTimeoutMs;
    private final int eventsMaxDeliveries;
    private final int chainMaxDepth;
    private final int inputMaxJsonTokens;
    private final int inputMaxMessageBytes;
    private final boolean demoAgentsEnabled;
    private final LogFormat logFormat;
    private final int healthTimeoutMs;
    private final int metricsRefreshMs;
    private final int demoAgentsConcurrency;
    private final int retentionDays;
    private final int retentionPeriodMs;
    private final int versionsRetirePeriodMs;
    private final boolean workflowsWatch;
    private final int workflowsReloadWaitMs;
    private final int supervisorPeriodMs;
    private final int messagesResponseTimeoutMs;

    /** What is wrong with the settings, each problem in a line; refused together at the end of the constructor. */
    private final List<String> problems = new ArrayList<>();
    private final Set<String> invalidKeys = new java.util.HashSet<>();

    private CoordinatorSettings(List<SettingsSource> sources) {
        this.sources = List.copyOf(sources);
        Map<String, String> resolved = new LinkedHashMap<>();
        DEFAULTS.keySet().forEach(key -> resolved.put(key, SECRET_KEYS.contains(key) ? secret(key) : lookup(key)));
        this.values = Collections.unmodifiableMap(resolved);

        refuseUnknownKeys();
        this.brokerEmbeddedPort = port("coordinator.broker.embedded.port");
        this.brokerJournalBufferTimeoutUs = positiveInt("coordinator.broker.embedded.journal-buffer-timeout-us");
        this.dbPoolSize = positiveInt("coordinator.db.pool.size");
        this.dbPoolConnectionTimeoutMs = atLeast("coordinator.db.pool.connection-timeout-ms", 250);   // HikariCP's least
        this.dbSocketTimeoutMs = nonNegativeInt("coordinator.db.socket-timeout-ms");
        this.dbStartWaitMs = nonNegativeInt("coordinator.db.start-wait-ms");
        this.httpDbTimeoutMs = atLeast("coordinator.http.db-timeout-ms", 1000);   // the driver counts whole seconds
        this.httpIdleTimeoutMs = nonNegativeInt("coordinator.http.idle-timeout-ms");
        this.httpHeaderTimeoutMs = nonNegativeInt("coordinator.http.header-timeout-ms");
        this.dbEmbeddedPort = port("coordinator.db.embedded.port");
        this.httpPort = port("coordinator.http.port");
        this.jmsConcurrentConsumers = positiveInt("coordinator.jms.concurrent-consumers");
        this.jmsMaxConcurrentConsumers = positiveInt("coordinator.jms.max-concurrent-consumers");
        this.jmsPoolMaxConnections = positiveInt("coordinator.jms.pool.max-connections");
        this.jmsReceiveTimeoutMs = atLeast("coordinator.jms.receive-timeout-ms", 50);
        this.eventsMaxDeliveries = positiveInt("coordinator.events.max-deliveries");
        this.chainMaxDepth = nonNegativeInt("coordinator.chain.max-depth");
        this.inputMaxJsonTokens = atLeast("coordinator.input.max-json-tokens", 1000);   // room for any control message
        this.inputMaxMessageBytes = atLeast("coordinator.input.max-message-bytes", 1024);   // room for any control message
        this.demoAgentsEnabled = bool("coordinator.demo-agents.enabled");
        this.workflowsWatch = bool("coordinator.workflows.watch");
        this.workflowsReloadWaitMs = positiveInt("coordinator.workflows.reload-wait-ms");
        this.logFormat = enumValue("coordinator.log.format", LogFormat.class);
        this.healthTimeoutMs = positiveInt("coordinator.health.timeout-ms");
        this.metricsRefreshMs = positiveInt("coordinator.metrics.refresh-ms");
        this.demoAgentsConcurrency = positiveInt("coordinator.demo-agents.concurrency");
        this.retentionDays = nonNegativeInt("coordinator.retention.days");
        if (retentionDays > MAX_RETENTION_DAYS) {
            // PostgreSQL's timestamps end in 4713 BC: now() - 2,500,000 days fails every sweep ("timestamp out of range")
            problem("coordinator.retention.days", retentionDays + " must be at most " + MAX_RETENTION_DAYS
                    + " (100 years; 0 keeps everything)");
        }
        this.retentionPeriodMs = positiveInt("coordinator.retention.period-ms");
        this.versionsRetirePeriodMs = positiveInt("coordinator.versions.retire-period-ms");
        this.supervisorPeriodMs = positiveInt("coordinator.supervisor.period-ms");
        this.messagesResponseTimeoutMs = positiveInt("coordinator.messages.response-timeout-ms");
        // written as an IPv4 address, it is one (999.1.1.1 was told only that it needs a password, not being loopback)
        if (httpHost().matches("[0-9.]+") && !httpHost().matches("((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])")) {
            problem("coordinator.http.host", "must be an address or a host name to listen on, such as 127.0.0.1 or 0.0.0.0, got \""
                    + httpHost() + "\"");
        } else if (!httpAuthenticationEnabled() && !isLoopback(httpHost()) && !invalidKeys.contains("coordinator.http.password")) {
            problem("coordinator.http.password", "must be set when coordinator.http.host (" + httpHost()
                    + ") is not a loopback address: outside the local development set-up the HTTP API and"
                    + " Jolokia require authentication");
        }
        for (String key : List.of("coordinator.db.url", "coordinator.db.migration-url")) {
            String url = values.get(key).trim();
            // a libpq URL (postgres://…) or a typo would fail only after the broker started: "No suitable driver"
            if (!url.isEmpty() && !url.startsWith("jdbc:postgresql:")) {
                problem(key, "must be a PostgreSQL JDBC URL, jdbc:postgresql://host:5432/database, got \""
                        + Secrets.redactUrl(url) + "\"" + (url.startsWith("postgres") ? " (a libpq URL: the user and password go in"
                        + " coordinator.db.user and coordinator.db.password)" : ""));
            }
        }
        if (!brokerUrl().isEmpty()) {
            // a scheme the Artemis client does not know (amqp://, a typo) passed validate, and the start then died
            // after "cannot be reached yet … Schema foo not found", with a stack trace
            String problem = dev.agentcoordinator.infra.Messaging.urlProblem(brokerUrl());
            if (problem != null) {
                problem("coordinator.broker.url", "must be an Artemis core URL, tcp://host:61616 (or (tcp://a:61616,tcp://b:61616)"
                        + " for several brokers), got \"" + Secrets.redactUrl(brokerUrl()) + "\": " + problem);
            }
        }
        if (embeddedBroker() && eventsMaxDeliveries > dev.agentcoordinator.infra.EmbeddedBroker.MAX_DELIVERY_ATTEMPTS) {
            // the embedded broker would move such an event to DLA first, without the reason agent.events.DLQ gives
            problem("coordinator.events.max-deliveries", eventsMaxDeliveries + " must be at most the embedded broker's "
                    + dev.agentcoordinator.infra.EmbeddedBroker.MAX_DELIVERY_ATTEMPTS + " deliveries, after which it moves a message to DLA");
        }
        // an empty one passed validate, and the start died resolving "jms://queue:" (String index out of range: 0)
        if (replyQueue().isBlank() || !replyQueue().equals(replyQueue().trim()) || replyQueue().contains("?")) {
            problem("coordinator.reply.queue", "must be a queue name, such as coordinator.replies, got \"" + replyQueue() + "\"");
        }
        if (!dbMigrationUrl().isEmpty() && dbUrl().isEmpty()) {
            problem("coordinator.db.migration-url", "is for a database of your own (coordinator.db.url);"
                    + " the embedded database is migrated directly");
        }
        try {
            dev.agentcoordinator.locks.LockPriorities.parse(values.get("coordinator.locks.priorities"));
        } catch (IllegalArgumentException e) {
            problem("coordinator.locks.priorities", e.getMessage().replaceFirst("^coordinator\\.locks\\.priorities: ", ""));
        }
        if (jmsMaxConcurrentConsumers < jmsConcurrentConsumers && !invalidKeys.contains("coordinator.jms.concurrent-consumers")
                && !invalidKeys.contains("coordinator.jms.max-concurrent-consumers")) {
            problem("coordinator.jms.max-concurrent-consumers",
                    "must be at least coordinator.jms.concurrent-consumers (" + jmsConcurrentConsumers + ")");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("\n", problems));
        }
    }

    /**
     * What refuses a second {@code --config}: the file replaces ./coordinator.properties, and of two files the last
     * alone was read, the settings of the first dropped without a word.
     */
    public static String configGivenTwice(Path first, String second) {
        return "--config given twice (" + first + ", " + second + "): the settings are read from one file, instead of"
                + " ./coordinator.properties; put them together in one, or give the others as COORDINATOR_* variables or -D options";
    }

    /** Settings from the usual layers; {@code configFile} (from {@code --config}) may be null. */
    public static CoordinatorSettings load(Path configFile) {
        return new CoordinatorSettings(standardSources(configFile));
    }

    public static CoordinatorSettings load() {
        return load(null);
    }

    /**
     * Settings from the usual layers with {@code overrides} on top of everything. Keys may be given
     * with or without the {@code coordinator.} prefix ({@code "http.port"} or {@code "coordinator.http.port"}).
     */
    public static CoordinatorSettings fromMap(Map<String, String> overrides) {
        List<SettingsSource> sources = new ArrayList<>();
        sources.add(SettingsSource.of("overrides", overrides));
        sources.addAll(standardSources(null));
        return new CoordinatorSettings(sources);
    }

    /** A copy with {@code overrides} on top of this instance's layers. */
    public CoordinatorSettings with(Map<String, String> overrides) {
        List<SettingsSource> layered = new ArrayList<>();
        layered.add(SettingsSource.of("overrides", overrides));
        layered.addAll(sources);
        return new CoordinatorSettings(layered);
    }

    /** Settings from exactly these layers (tests). */
    static CoordinatorSettings fromSources(List<SettingsSource> sources) {
        return new CoordinatorSettings(sources);
    }

    private static List<SettingsSource> standardSources(Path configFile) {
        List<SettingsSource> sources = new ArrayList<>();
        sources.add(SettingsSource.systemProperties());
        sources.add(SettingsSource.environment(System.getenv()));
        if (configFile != null) {
            sources.add(SettingsSource.file(configFile));
        } else if (Files.isRegularFile(Path.of(LOCAL_CONFIG_FILE))) {
            sources.add(SettingsSource.file(Path.of(LOCAL_CONFIG_FILE)));
        }
        sources.add(SettingsSource.classpath("application.properties"));
        return sources;
    }

    /**
     * The value of any {@code coordinator.*} setting, known or not, through all layers; null when
     * unset. Lets other parts of the application read their own settings the same way.
     */
    public String get(String key) {
        String qualified = SettingsSource.qualify(key);
        return values.containsKey(qualified) ? values.get(qualified) : lookup(qualified);
    }

    /** Every known setting and its resolved value (passwords included: do not log this map). */
    public Map<String, String> values() {
        return values;
    }

    // --- broker
    public String brokerUrl() { return values.get("coordinator.broker.url").trim(); }
    public boolean embeddedBroker() { return brokerUrl().isEmpty(); }
    public String brokerUser() { return values.get("coordinator.broker.user"); }
    public String brokerPassword() { return values.get("coordinator.broker.password"); }
    public int brokerEmbeddedPort() { return brokerEmbeddedPort; }
    public Path brokerEmbeddedDataDir() { return dirOrUnderData("coordinator.broker.embedded.data-dir", "artemis"); }
    public int brokerJournalBufferTimeoutUs() { return brokerJournalBufferTimeoutUs; }

    /** Days a settled execution (and what it left: events, ignored replies, messages, lock events) is kept; 0 keeps everything. */
    public int retentionDays() { return retentionDays; }

    public int retentionPeriodMs() { return retentionPeriodMs; }

    /** How often the versions kept for executions are checked for any execution still on them (see RetainedVersions). */
    public int versionsRetirePeriodMs() { return versionsRetirePeriodMs; }

    /**
     * The delivery of an event that fails this many times sends it to agent.events.DLQ with the reason of
     * its last failure (a database outage excepted); at most the broker's max-delivery-attempts, or the
     * broker moves it to its DLA first, without a reason.
     */
    public int eventsMaxDeliveries() { return eventsMaxDeliveries; }
    public int chainMaxDepth() { return chainMaxDepth; }

    /**
     * The most JSON tokens (keys, values, brackets) read from one event or step reply: the parser stops
     * past them, before the rest of the tree takes the heap; the event is dead-lettered, the reply fails its step.
     */
    public int inputMaxJsonTokens() { return inputMaxJsonTokens; }

    /** The most bytes of one event's or step reply's body read (coordinator.input.max-message-bytes). */
    public int inputMaxMessageBytes() { return inputMaxMessageBytes; }
    public dev.agentcoordinator.locks.LockPriorities lockPriorities() {
        return dev.agentcoordinator.locks.LockPriorities.parse(values.get("coordinator.locks.priorities"));
    }

    /** How often the timeout, retry and lock sweeps run; the stall sweeps run every 50 of these periods. */
    public int supervisorPeriodMs() { return supervisorPeriodMs; }

    /** How long an agent message that requires a response waits for it. */
    public int messagesResponseTimeoutMs() { return messagesResponseTimeoutMs; }

    // --- database
    public String dbUrl() { return values.get("coordinator.db.url").trim(); }

    /**
     * Where the schema migrations connect, when not through {@link #dbUrl()}: a direct connection to
     * PostgreSQL when the coordinator's connections go through a transaction-mode pooler, which cannot
     * keep the session-level lock that the migrations of several coordinators take turns on.
     */
    public String dbMigrationUrl() { return values.get("coordinator.db.migration-url").trim(); }
    public boolean embeddedDatabase() { return dbUrl().isEmpty(); }
    public String dbUser() { return values.get("coordinator.db.user"); }
    public String dbPassword() { return values.get("coordinator.db.password"); }
    public int dbPoolSize() { return dbPoolSize; }

    /** How long a statement waits for a pooled connection before it fails (Hikari's connectionTimeout; 250 at least). */
    public int dbPoolConnectionTimeoutMs() { return dbPoolConnectionTimeoutMs; }

    /**
     * The longest wait for PostgreSQL's answer on a connection of the pool (the driver's socketTimeout, whole seconds;
     * 0: none): a database that stops answering without closing the connection (frozen, or a network partition)
     * fails the statement then, instead of holding its thread until TCP gives up, hours later. Not the migrations'.
     */
    public int dbSocketTimeoutMs() { return dbSocketTimeoutMs; }

    /**
     * How long a start waits for a database of its own (coordinator.db.url) that refuses or drops its connections (not
     * up yet, restarting) before it gives up; 0: not at all. A database that answers with an error (a wrong password, a
     * migration that fails) stops the start at once.
     */
    public int dbStartWaitMs() { return dbStartWaitMs; }

    /** An HTTP API call's bound on waiting for PostgreSQL: for a connection of its pool, and for each statement's answer. */
    public int httpDbTimeoutMs() { return httpDbTimeoutMs; }

    /**
     * How long an HTTP connection may stay without a byte read or written before the server closes it (0: never):
     * bounds what a client holds that opens connections and sends nothing, or stops halfway through a request. An
     * API call that takes longer to answer loses its connection too.
     */
    public int httpIdleTimeoutMs() { return httpIdleTimeoutMs; }

    /**
     * How long an HTTP/1.x request's line and headers may take to arrive, from the connection's opening or the
     * request's first byte (0: no bound): a client that sends a byte of its headers every few seconds is never idle.
     */
    public int httpHeaderTimeoutMs() { return httpHeaderTimeoutMs; }
    public int dbEmbeddedPort() { return dbEmbeddedPort; }
    public Path dbEmbeddedDataDir() { return dirOrUnderData("coordinator.db.embedded.data-dir", "postgres"); }

    // --- HTTP, files, behaviour
    public String httpHost() { return values.get("coordinator.http.host"); }
    public int httpPort() { return httpPort; }
    public String httpUser() { return values.get("coordinator.http.user"); }
    public String httpPassword() { return values.get("coordinator.http.password"); }
    /**
     * HTTP basic authentication guards the API, Jolokia and metrics whenever a password is set. Without
     * one the server must listen on a loopback address (the embedded development set-up).
     */
    public boolean httpAuthenticationEnabled() { return !httpPassword().isEmpty(); }
    public Path workflowsDir() { return Path.of(values.get("coordinator.workflows.dir")); }
    /** Whether a change in the workflow folder reloads it (as POST /api/workflows/reload does). */
    public boolean workflowsWatch() { return workflowsWatch; }
    public int workflowsReloadWaitMs() { return workflowsReloadWaitMs; }
    public Path dataDir() { return Path.of(values.get("coordinator.data.dir")); }
    public boolean demoAgentsEnabled() { return demoAgentsEnabled; }

    // --- JMS
    public int jmsConcurrentConsumers() { return jmsConcurrentConsumers; }
    public int jmsMaxConcurrentConsumers() { return jmsMaxConcurrentConsumers; }
    public int jmsPoolMaxConnections() { return jmsPoolMaxConnections; }
    public int jmsReceiveTimeoutMs() { return jmsReceiveTimeoutMs; }
    public String replyQueue() { return values.get("coordinator.reply.queue"); }

    public LogFormat logFormat() { return logFormat; }

    // --- operations
    public int healthTimeoutMs() { return healthTimeoutMs; }
    public int metricsRefreshMs() { return metricsRefreshMs; }
    public int demoAgentsConcurrency() { return demoAgentsConcurrency; }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("CoordinatorSettings{");
        values.forEach((k, v) -> sb.append(k.substring(SettingsSource.PREFIX.length())).append('=')
                .append(k.endsWith("password") && !v.isEmpty() ? "****" : Secrets.redactUrl(v)).append(", "));
        sb.setLength(sb.length() - 2);
        return sb.append('}').toString();
    }

    // --- resolution and validation

    /**
     * The settings that may instead name a file holding them, {@code coordinator.db.password.file} or
     * {@code COORDINATOR_DB_PASSWORD_FILE}: a secret mounted as a file (Kubernetes, Docker, systemd credentials) never
     * has to be copied into the environment or a properties file.
     */
    public static final Set<String> SECRET_KEYS = Set.of("coordinator.broker.password", "coordinator.db.password",
            "coordinator.http.password");

    static final String FILE_SUFFIX = ".file";

    /** Anything longer is no password: a wrong path (a log, a device) would otherwise be read whole. */
    static final int MAX_SECRET_FILE_BYTES = 64 * 1024;

    /**
     * A secret setting's value: the first layer that gives it or a file for it wins, so that a file named in the
     * environment outranks a value in a properties file. An empty file name counts as none (compose's {@code ${X:-}}).
     */
    private String secret(String key) {
        return secret(sources, key, problem -> {
            invalidKeys.add(key);
            problems.add(problem);
        });
    }

    /**
     * {@code key}'s value (one of {@link #SECRET_KEYS}) from the environment alone, a file named in
     * {@code KEY_FILE} read as the coordinator reads it: for the command-line tools that take their broker's login from
     * the environment ({@code SendEvent}).
     *
     * @throws IllegalArgumentException naming the setting, the variable and the file, as a start refuses it
     */
    public static String secretFromEnvironment(String key, Map<String, String> env) {
        if (!SECRET_KEYS.contains(key)) {
            throw new IllegalArgumentException(key + " has no file form: it is none of " + new java.util.TreeSet<>(SECRET_KEYS));
        }
        List<String> refused = new ArrayList<>();
        String value = secret(List.of(SettingsSource.environment(env)), key, refused::add);
        if (!refused.isEmpty()) {
            throw new IllegalArgumentException(String.join("\n", refused));
        }
        return value;
    }

    private static String secret(List<SettingsSource> sources, String key, java.util.function.Consumer<String> refuse) {
        String fileKey = key + FILE_SUFFIX;
        for (SettingsSource source : sources) {
            String value = source.get(key);
            String file = source.get(fileKey);
            if (file != null && file.isBlank()) {
                file = null;
            }
            if (value != null && file != null) {
                refuse.accept("invalid setting " + key + " (from " + originIn(source, key) + "): " + originIn(source, fileKey)
                        + " names a file for it too: set one of them");
                return "";
            }
            if (file != null) {
                return readSecretFile(key, originIn(source, fileKey), file.trim(), refuse);
            }
            if (value != null) {
                return value;
            }
        }
        return DEFAULTS.get(key);
    }

    /** The file's text without its trailing line breaks (echo's, an editor's); the value itself is never told. */
    private static String readSecretFile(String key, String origin, String file, java.util.function.Consumer<String> refuse) {
        String why;
        try (java.io.InputStream in = Files.newInputStream(Path.of(file))) {
            byte[] bytes = in.readNBytes(MAX_SECRET_FILE_BYTES + 1);
            if (bytes.length <= MAX_SECRET_FILE_BYTES) {
                String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
                int end = text.length();
                while (end > 0 && (text.charAt(end - 1) == '\n' || text.charAt(end - 1) == '\r')) {
                    end--;
                }
                return text.substring(0, end);
            }
            why = "it is longer than " + MAX_SECRET_FILE_BYTES + " bytes, which no password is";
        } catch (java.nio.file.NoSuchFileException e) {
            why = "no such file";
        } catch (java.nio.file.AccessDeniedException e) {
            why = "permission denied";
        } catch (java.io.IOException | java.nio.file.InvalidPathException e) {
            why = e.getMessage();
        }
        refuse.accept("invalid setting " + key + " (from " + origin + "): cannot read the file " + file + ": " + why);
        return "";
    }

    private static String originIn(SettingsSource source, String key) {
        return source.origin().equals("environment") ? "environment variable " + SettingsSource.envName(key) : source.origin();
    }

    private String lookup(String key) {
        return firstValue(sources, key);
    }

    /** {@code key}'s value in the first of {@code sources} that sets it, else its default. */
    private static String firstValue(List<SettingsSource> sources, String key) {
        for (SettingsSource source : sources) {
            String value = source.get(key);
            if (value != null) {
                return value;
            }
        }
        return DEFAULTS.get(key);
    }

    /** Settings read where they are used rather than resolved up front (Infrastructure.instanceId), and the secrets' files. */
    private static final Set<String> OTHER_KEYS = otherKeys();

    private static Set<String> otherKeys() {
        Set<String> keys = new java.util.TreeSet<>(Set.of("coordinator.instance-id"));
        SECRET_KEYS.forEach(key -> keys.add(key + FILE_SUFFIX));
        return Collections.unmodifiableSet(keys);
    }

    /** A misspelt key in a file or a -D option would otherwise be ignored for its default without a word. */
    private void refuseUnknownKeys() {
        for (SettingsSource source : sources) {
            for (String key : source.written()) {
                if (!DEFAULTS.containsKey(key) && !OTHER_KEYS.contains(key)) {
                    problems.add("unknown setting " + key + " (from " + source.origin() + ")"
                            + closestKnown(key).map(known -> ": did you mean " + known + "?").orElse(""));
                }
            }
        }
    }

    private static java.util.Optional<String> closestKnown(String key) {
        return dev.agentcoordinator.definition.Spelling.closest(key,
                java.util.stream.Stream.concat(DEFAULTS.keySet().stream(), OTHER_KEYS.stream()).toList(), Math.max(3, key.length() / 4));
    }

    private String origin(String key) {
        for (SettingsSource source : sources) {
            if (source.get(key) != null) {
                return originIn(source, key);
            }
            String file = SECRET_KEYS.contains(key) ? source.get(key + FILE_SUFFIX) : null;
            if (file != null && !file.isBlank()) {
                return originIn(source, key + FILE_SUFFIX) + ", the file " + file.trim();
            }
        }
        return "default";
    }

    private static boolean isLoopback(String host) {
        try {
            return java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private Path dirOrUnderData(String key, String subdir) {
        String value = values.get(key).trim();
        return value.isEmpty() ? dataDir().resolve(subdir) : Path.of(value);
    }

    /** The longest retention: 100 years (0 keeps everything). */
    static final int MAX_RETENTION_DAYS = 36_500;

    /** What {@link #integer} gives for a value that is no integer (told as a problem). */
    private static final int NOT_AN_INTEGER = Integer.MIN_VALUE;

    private int integer(String key) {
        String value = values.get(key).trim();
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            problem(key, "'" + value + "' is not an integer");
            return NOT_AN_INTEGER;
        }
    }

    private int port(String key) {
        int port = integer(key);
        if (port != NOT_AN_INTEGER && (port < 0 || port > 65535)) {
            problem(key, port + " is not a port (0..65535, 0 = any free port)");
        }
        return port < 0 || port > 65535 ? 0 : port;
    }

    private int nonNegativeInt(String key) {
        return atLeast(key, 0, " must be 0 or more");
    }

    private int positiveInt(String key) {
        return atLeast(key, 1);
    }

    private int atLeast(String key, int least) {
        return atLeast(key, least, " must be at least " + least);
    }

    private int atLeast(String key, int least, String problem) {
        int n = integer(key);
        if (n != NOT_AN_INTEGER && n < least) {
            problem(key, n + problem);
        }
        return Math.max(n, least);
    }

    private boolean bool(String key) {
        String value = values.get(key).trim().toLowerCase(Locale.ROOT);
        return switch (value) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> {
                problem(key, "'" + value + "' is not true or false (true, yes, on, 1; false, no, off, 0)");
                yield false;
            }
        };
    }

    private <E extends Enum<E>> E enumValue(String key, Class<E> type) {
        String value = values.get(key).trim();
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            List<String> allowed = new ArrayList<>();
            for (E constant : type.getEnumConstants()) {
                allowed.add(constant.name().toLowerCase(Locale.ROOT));
            }
            problem(key, "'" + value + "' is not one of " + String.join("|", allowed));
            return type.getEnumConstants()[0];
        }
    }

    /** Tells what is wrong with {@code key}; the constructor refuses the settings once it has read them all, naming every problem. */
    private void problem(String key, String problem) {
        invalidKeys.add(key);
        problems.add("invalid setting " + key + " (from " + origin(key) + "): " + problem);
    }
}
