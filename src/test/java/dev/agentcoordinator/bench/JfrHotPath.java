package dev.agentcoordinator.bench;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Summarises a flight recording of the coordinator JVM (e.g. from
 * {@code -Dbench.jvmArgs=-XX:StartFlightRecording=filename=c.jfr,settings=profile}): CPU samples by
 * component (inclusive: a sample counts for every component on its stack), by the first component
 * from the top of the stack (exclusive), by thread, the hottest leaf methods, the engine's own
 * methods, and allocation by component.
 *
 * <p>With socket writes recorded (see {@link FlightRecording}) it also counts the writes to each port,
 * so statements sent to PostgreSQL per step when the number of steps is given.
 *
 * <pre>java -cp … dev.agentcoordinator.bench.JfrHotPath c.jfr [top] [steps]</pre>
 */
public final class JfrHotPath {

    /** Components by package prefix, most specific first. */
    private static final Map<String, String> COMPONENTS = components();

    private static Map<String, String> components() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("org.postgresql", "PostgreSQL JDBC driver");
        c.put("com.zaxxer.hikari", "Hikari pool");
        c.put("org.apache.camel.component.sql", "camel-sql");
        c.put("org.springframework.jdbc", "Spring JDBC (camel-sql)");
        c.put("org.apache.camel.processor.aggregate.jdbc", "JDBC aggregation repository");
        c.put("org.apache.camel.processor.aggregate", "Camel aggregator");
        c.put("dev.agentcoordinator.engine.JoinRepository", "JDBC aggregation repository");
        c.put("dev.agentcoordinator.engine.DependencyGate", "fan-in dependency gate");
        c.put("org.apache.camel.component.jms", "camel-jms");
        c.put("org.springframework.jms", "Spring JMS (camel-jms)");
        c.put("org.messaginghub.pooled", "pooled-jms");
        c.put("org.apache.activemq.artemis.jms.client", "Artemis JMS client");
        c.put("org.apache.activemq.artemis.core.client", "Artemis core client");
        c.put("org.apache.activemq.artemis.core.journal", "Artemis journal");
        c.put("org.apache.activemq.artemis.core.io", "Artemis journal");
        c.put("org.apache.activemq.artemis.core.persistence", "Artemis persistence");
        c.put("org.apache.activemq.artemis.core.server", "Artemis broker");
        c.put("org.apache.activemq.artemis.core.postoffice", "Artemis broker");
        c.put("org.apache.activemq.artemis", "Artemis (other)");
        c.put("com.fasterxml.jackson", "Jackson JSON");
        c.put("org.apache.logging", "Log4j logging");
        c.put("org.apache.camel.language.simple", "Camel simple language");
        c.put("org.apache.camel.support.processor.DefaultExchangeFormatter", "Camel log formatting");
        c.put("org.apache.camel.component.log", "Camel log formatting");
        c.put("org.apache.camel.processor.LogProcessor", "Camel log formatting");
        c.put("org.apache.camel.impl.engine.DefaultReactiveExecutor", "Camel routing engine");
        c.put("org.apache.camel", "Camel routing engine");
        c.put("io.netty", "Netty");
        c.put("io.vertx", "Vert.x");
        c.put("dev.agentcoordinator", "coordinator's own code");
        c.put("java.util.regex", "regex");
        c.put("java.util.UUID", "UUID");
        c.put("sun.nio.ch", "socket / file I/O");
        c.put("java.io", "socket / file I/O");
        c.put("sun.nio.fs", "socket / file I/O");
        return c;
    }

    private JfrHotPath() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: JfrHotPath <recording.jfr> [top]");
            System.exit(2);
        }
        int top = args.length > 1 ? Integer.parseInt(args[1]) : 25;
        final long steps = args.length > 2 ? Long.parseLong(args[2]) : 0;
        Map<String, Integer> writesByPort = new HashMap<>();
        Map<String, Integer> sqlCallers = new HashMap<>();
        Map<String, Integer> sqlThreads = new HashMap<>();
        Map<String, Integer> inclusive = new HashMap<>();
        Map<String, Integer> exclusive = new HashMap<>();
        Map<String, Integer> leaves = new HashMap<>();
        Map<String, Integer> ownCode = new HashMap<>();
        Map<String, Integer> threads = new HashMap<>();
        Map<String, Long> allocation = new HashMap<>();
        int samples = 0;
        long allocated = 0;
        try (RecordingFile recording = new RecordingFile(Path.of(args[0]))) {
            while (recording.hasMoreEvents()) {
                RecordedEvent event = recording.readEvent();
                String type = event.getEventType().getName();
                RecordedStackTrace stack = event.getStackTrace();
                if (stack == null || stack.getFrames().isEmpty()) {
                    continue;
                }
                List<RecordedFrame> frames = stack.getFrames();
                if (type.equals("jdk.ExecutionSample")) {
                    samples++;
                    Set<String> seen = new HashSet<>();
                    String first = null;
                    for (RecordedFrame frame : frames) {
                        String component = component(frame);
                        if (component != null) {
                            seen.add(component);
                            first = first == null ? component : first;
                        }
                    }
                    seen.forEach(c -> inclusive.merge(c, 1, Integer::sum));
                    exclusive.merge(first == null ? "JDK / other" : first, 1, Integer::sum);
                    leaves.merge(name(frames.get(0)), 1, Integer::sum);
                    Set<String> ownSeen = new HashSet<>();
                    for (RecordedFrame frame : frames) {
                        String n = name(frame);
                        if (n.startsWith("dev.agentcoordinator") && ownSeen.add(n)) {
                            ownCode.merge(n, 1, Integer::sum);
                        }
                    }
                    threads.merge(threadGroup(event, "sampledThread"), 1, Integer::sum);
                } else if (type.equals("jdk.SocketWrite")) {
                    boolean postgres = frames.stream().anyMatch(f -> component(f) != null && component(f).startsWith("PostgreSQL"));
                    writesByPort.merge((postgres ? "PostgreSQL, port " : "port ") + event.getInt("port"), 1, Integer::sum);
                    if (postgres) {
                        sqlCallers.merge(sqlCaller(frames), 1, Integer::sum);
                        sqlThreads.merge(threadGroup(event, "eventThread"), 1, Integer::sum);
                    }
                } else if (type.equals("jdk.ObjectAllocationSample")) {
                    long weight = event.getLong("weight");
                    allocated += weight;
                    String first = "JDK / other";
                    for (RecordedFrame frame : frames) {
                        String component = component(frame);
                        if (component != null) {
                            first = component;
                            break;
                        }
                    }
                    allocation.merge(first, weight, Long::sum);
                }
            }
        }
        System.out.printf("%d CPU samples%n", samples);
        print("CPU by component, inclusive (a sample counts for every component on its stack)", inclusive, samples, top);
        print("CPU by component, exclusive (the component nearest the top of the stack)", exclusive, samples, top);
        print("CPU by thread (digits removed)", threads, samples, top);
        print("Hottest leaf methods", leaves, samples, top);
        print("The coordinator's own methods, inclusive", ownCode, samples, top);
        if (!writesByPort.isEmpty()) {
            System.out.printf("%nSocket writes (every write recorded)%s%n", steps > 0 ? ", per step of " + steps : "");
            writesByPort.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                    .forEach(e -> System.out.printf("  %8d %s  %s%n", e.getValue(),
                            steps > 0 ? String.format("(%.2f/step)", (double) e.getValue() / steps) : "", e.getKey()));
            int sql = sqlCallers.values().stream().mapToInt(Integer::intValue).sum();
            print("Writes to PostgreSQL (one per statement or commit) by caller", sqlCallers, sql, top);
            print("Writes to PostgreSQL by thread", sqlThreads, sql, top);
        }
        final long allocatedTotal = Math.max(1, allocated);
        System.out.printf("%nAllocation by component (sampled weight, %.0f MB in total)%n", allocated / 1e6);
        allocation.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .forEach(e -> System.out.printf("  %5.1f%%  %s%n", 100.0 * e.getValue() / allocatedTotal, e.getKey()));
    }

    private static String component(RecordedFrame frame) {
        if (frame.getMethod() == null || frame.getMethod().getType() == null) {
            return null;
        }
        String type = frame.getMethod().getType().getName();
        for (Map.Entry<String, String> c : COMPONENTS.entrySet()) {
            if (type.startsWith(c.getKey())) {
                return c.getValue();
            }
        }
        return null;
    }

    private static String name(RecordedFrame frame) {
        if (frame.getMethod() == null) {
            return "?";
        }
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }

    /** The first frame below the JDBC plumbing (driver, pool, Spring JDBC, JDK): who ran the statement. */
    private static String sqlCaller(List<RecordedFrame> frames) {
        for (RecordedFrame frame : frames) {
            String n = name(frame);
            if (!(n.startsWith("java.") || n.startsWith("sun.") || n.startsWith("jdk.") || n.startsWith("org.postgresql")
                    || n.startsWith("com.zaxxer") || n.startsWith("org.springframework"))) {
                return n;
            }
        }
        return "?";
    }

    private static String threadGroup(RecordedEvent event, String field) {
        var thread = event.getThread(field);
        String name = thread == null || thread.getJavaName() == null ? "?" : thread.getJavaName();
        return name.replaceAll("\\d+", "#");
    }

    private static void print(String title, Map<String, Integer> counts, int samples, int top) {
        System.out.printf("%n%s%n", title);
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                .forEach(e -> System.out.printf("  %5.1f%%  %s%n", 100.0 * e.getValue() / Math.max(1, samples), e.getKey()));
    }
}
