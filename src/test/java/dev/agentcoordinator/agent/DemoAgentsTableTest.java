package dev.agentcoordinator.agent;

import dev.agentcoordinator.agent.demo.DemoAgents;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * docs/agent-protocol.md, "The demo agents", has a table of every demo action's inputs and outputs, which workflow
 * authors write against instead of reading agent/demo/. This holds the table to the code: every action of the demo
 * agents has a row and every row an action; on a typical input, each row's output keys (with their types, and the keys
 * in its {…}) are the ones the handler answers, its signals and shared memory the ones it sends, and each input it
 * names is read, an input marked required failing the step without retries when absent. Handlers are called as an
 * agent service calls them ({@link ActionDispatcher}), without a broker.
 *
 * <p>The table's cells list entries {@code `key`: description}; in an output cell the description starts with the
 * type. Other backquoted text (a key not followed by a colon) is prose.
 */
class DemoAgentsTableTest {

    private static final Path DOC = Path.of("docs/agent-protocol.md");

    private static final Set<String> KNOBS = Set.of("simulate_latency_ms", "fail_until_attempt", "simulate_error");

    private static final List<Object> SKILLS = List.of(Map.of("name", "java", "level", 4), Map.of("name", "sql", "level", 1));
    private static final Map<String, Object> DATA = Map.of(
            "region", "eu",
            "skill_demand", Map.of("java", 80, "sql", 60, "cloud", 90, "testing", 50),
            "salaries", Map.of("architect", 90_000, "tester", 60_000, "data_engineer", 70_000));

    /** A typical input of every action, as the shipped workflows map it; its keys are the ones the row names. */
    private static final Map<String, Map<String, Object>> TYPICAL = Map.ofEntries(
            Map.entry("interviewer.analyze_transcript", Map.of("interview_id", "i-1", "user_id", "u-1", "score", 30)),
            Map.entry("interviewer.evaluate_response", Map.of("draft", "Draft: Why Java? (refined)")),
            Map.entry("sentinel.extract_skills_from_interview", Map.of("analysis",
                    Map.of("score", 30, "strengths", List.of("java", "sql"), "weaknesses", List.of("cloud", "testing")))),
            Map.entry("sentinel.update_user_skills", Map.of("skill_signals", SKILLS, "user_id", "u-1")),
            Map.entry("sentinel.parse_resume", Map.of("resume_id", "r-1", "user_id", "u-1")),
            Map.entry("sentinel.extract_skills", Map.of("parsed", Map.of("resume_id", "r-1", "raw_skills", List.of("java", "sql")))),
            Map.entry("sentinel.analyze_salaries", Map.of("data", DATA)),
            Map.entry("architect.evaluate_roadmap_relevance",
                    Map.of("updated_skills", SKILLS, "user_id", "u-1", "interview_feedback", "Interview i-1 scored 30/100")),
            Map.entry("architect.adjust_roadmap", Map.of("impact_analysis",
                    Map.of("skills_below_target", List.of("sql"), "priority", "high"), "user_id", "u-1")),
            Map.entry("architect.revert_roadmap", Map.of("adjustment_id", "adj-7", "user_id", "u-1")),
            Map.entry("architect.generate_roadmap", Map.of("skills", SKILLS, "matches", List.of(Map.of("job_id", "job-java")))),
            Map.entry("architect.analyze_skill_demand", Map.of("data", DATA)),
            Map.entry("architect.analyze_skill_gaps", Map.of("job_id", "j-1", "user_id", "u-1")),
            Map.entry("architect.plan_upskilling", Map.of("gaps", List.of(Map.of("skill", "sql", "missing_levels", 2)))),
            Map.entry("action.send_interview_summary", Map.of("analysis", Map.of("score", 30),
                    "roadmap_changes", List.of(Map.of("skill", "sql")), "user_id", "u-1")),
            Map.entry("action.send_roadmap_update", Map.of("changes", List.of(Map.of("skill", "sql")), "user_id", "u-1")),
            Map.entry("action.compile_report", Map.of("trends", List.of(Map.of("skill", "cloud", "demand", 90)),
                    "salaries", Map.of("median", 70_000), "skills", List.of(Map.of("name", "cloud", "demand", 90)))),
            Map.entry("action.notify_strong_match", Map.of("job_id", "j-1")),
            Map.entry("action.prepare_application", Map.of("job_id", "j-1", "user_id", "u-1")),
            Map.entry("action.deliver_response", Map.of("answer", "Because.")),
            Map.entry("strategist.evaluate_match", Map.of("match_score", 0.9, "job_id", "j-1", "user_id", "u-1")),
            Map.entry("strategist.fetch_market_data", Map.of("region", "eu")),
            Map.entry("strategist.analyze_trends", Map.of("data", DATA)),
            Map.entry("strategist.match_jobs", Map.of("skills", SKILLS)),
            Map.entry("strategist.draft_response", Map.of("question", "Why Java?")),
            Map.entry("strategist.refine_response", Map.of("draft", "Draft: Why Java?")),
            Map.entry("strategist.evaluate_and_refine", Map.of("draft", "Draft: Why Java? (refined)")));

    /** {@code `key`:} opens an entry; other backquoted text is prose. */
    private static final Pattern ENTRY = Pattern.compile("`([a-z_][a-z0-9_]*)`:");
    private static final Pattern EMITS_SIGNAL = Pattern.compile("emits signal `([A-Z0-9_]+)`");
    private static final Pattern WRITES_MEMORY = Pattern.compile("writes shared memory `([a-z0-9_]+)`");

    record Entry(String key, String description, List<Entry> nested) {
        String type() {
            Matcher word = Pattern.compile("^[a-z]+").matcher(description);
            return word.find() ? word.group() : "";
        }
    }

    record Row(String action, List<Entry> inputs, List<Entry> outputs, String also) {
        @Override
        public String toString() {
            return action;
        }
    }

    static List<Row> rows() {
        String doc;
        try {
            doc = Files.readString(DOC);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int section = doc.indexOf("\n## The demo agents\n");
        assertThat(section).as("section \"The demo agents\" in %s", DOC).isNotNegative();
        int header = doc.indexOf("\n| action |", section);
        int nextSection = doc.indexOf("\n## ", section + 1);
        assertThat(header).as("the actions' table in \"The demo agents\"").isBetween(section, nextSection);

        List<Row> rows = new ArrayList<>();
        List<String> lines = doc.substring(header + 1).lines().takeWhile(line -> line.startsWith("|")).toList();
        for (String line : lines.subList(2, lines.size())) {   // after the header and its |---| line
            String[] cells = line.split("\\|", -1);
            assertThat(cells).as("a row of 4 cells: %s", line).hasSize(6);
            String action = cells[1].trim().replace("`", "");
            rows.add(new Row(action, entries(cells[2]), entries(cells[3]), cells[4].trim()));
        }
        return rows;
    }

    @Test
    void everyDemoActionHasARowAndEveryRowAnAction() {
        List<String> documented = rows().stream().map(Row::action).toList();
        Set<String> inCode = new TreeSet<>();
        DemoAgents.handlers().forEach((agent, actions) -> actions.keySet().forEach(action -> inCode.add(agent + "." + action)));

        Set<String> withoutRow = new TreeSet<>(inCode);
        documented.forEach(withoutRow::remove);
        Set<String> withoutAction = new TreeSet<>(documented);
        withoutAction.removeAll(inCode);

        assertThat(documented).as("rows of %s, \"The demo agents\"", DOC).doesNotHaveDuplicates();
        assertThat(withoutRow).as("actions of the demo agents without a row in %s", DOC).isEmpty();
        assertThat(withoutAction).as("rows of %s naming no action of the demo agents", DOC).isEmpty();
        assertThat(TYPICAL.keySet()).as("this test's typical inputs").containsExactlyInAnyOrderElementsOf(inCode);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void theRowIsWhatTheHandlerAnswers(Row row) {
        String[] agentAndAction = row.action().split("\\.", 2);
        assertThat(agentAndAction).as("a row's action is agent.action: %s", row.action()).hasSize(2);
        String agent = agentAndAction[0];
        String action = agentAndAction[1];
        assertThat(DemoAgents.handlers().keySet()).as("demo agents").contains(agent);
        assertThat(DemoAgents.handlers().get(agent).keySet()).as("actions of demo agent %s", agent).contains(action);
        Map<String, Object> typical = TYPICAL.get(row.action());
        assertThat(typical).as("a typical input of %s in this test", row.action()).isNotNull();

        // outputs: the keys, their types and the keys of their {…}
        AgentReply reply = dispatch(agent, action, typical);
        assertThat(reply.isOk()).as("%s on %s: %s", row.action(), typical, reply).isTrue();
        assertEntries(row.action() + " output", row.outputs(), reply.output());

        // signals and shared memory
        assertThat(reply.signals().stream().map(AgentReply.Signal::signalType).toList())
                .as("%s: signals emitted (\"emits signal `X`\")", row.action())
                .containsExactlyInAnyOrderElementsOf(all(EMITS_SIGNAL, row.also()));
        assertThat(reply.sharedMemory().keySet())
                .as("%s: shared memory written (\"writes shared memory `k`\")", row.action())
                .containsExactlyInAnyOrderElementsOf(all(WRITES_MEMORY, row.also()));

        // inputs: the typical input has exactly the row's; each is read; required ones fail the step when absent
        List<String> inputs = row.inputs().stream().map(Entry::key).toList();
        assertThat(inputs).as("%s: a demo knob in the row's inputs", row.action()).doesNotContainAnyElementsOf(KNOBS);
        assertThat(typical.keySet()).as("%s: this test's typical input against the row's inputs", row.action())
                .containsExactlyInAnyOrderElementsOf(inputs);
        for (Entry input : row.inputs()) {
            AgentReply without = dispatch(agent, action, without(typical, input.key()));
            if (input.description().startsWith("required")) {
                assertThat(without.isOk() || without.retryable())
                        .as("%s without required input %s: %s", row.action(), input.key(), without).isFalse();
                assertThat(without.error()).as("%s: the error names the input", row.action()).contains("'" + input.key() + "'");
            } else {
                assertThat(without.isOk()).as("%s without optional input %s: %s", row.action(), input.key(), without).isTrue();
            }
            assertThat(isRead(agent, action, typical, input.key()))
                    .as("%s reads input %s (its absence changes the reply, alone or with another input absent)",
                            row.action(), input.key())
                    .isTrue();
        }
    }

    /** Whether leaving {@code key} out changes the reply, from the typical input or from it without one other key. */
    private static boolean isRead(String agent, String action, Map<String, Object> typical, String key) {
        List<Map<String, Object>> bases = new ArrayList<>();
        bases.add(typical);
        typical.keySet().stream().filter(other -> !other.equals(key)).forEach(other -> bases.add(without(typical, other)));
        return bases.stream().anyMatch(base ->
                !comparable(dispatch(agent, action, base)).equals(comparable(dispatch(agent, action, without(base, key)))));
    }

    private static void assertEntries(String where, List<Entry> documented, Map<?, ?> actual) {
        assertThat(actual.keySet().stream().map(String::valueOf).toList()).as("%s: keys", where)
                .containsExactlyInAnyOrderElementsOf(documented.stream().map(Entry::key).toList());
        for (Entry entry : documented) {
            String at = where + "." + entry.key();
            Object value = actual.get(entry.key());
            assertType(at, entry.type(), value);
            if (entry.nested().isEmpty()) {
                continue;
            }
            if (value instanceof Map<?, ?> object) {
                assertEntries(at, entry.nested(), object);
            } else if (value instanceof List<?> array) {
                assertThat(array).as("%s: an array the typical input fills", at).isNotEmpty();
                for (Object item : array) {
                    assertThat(item).as("%s: an item", at).isInstanceOf(Map.class);
                    assertEntries(at + "[]", entry.nested(), (Map<?, ?>) item);
                }
            } else {
                fail("%s: {…} lists keys, but the value is %s", at, value);
            }
        }
    }

    private static void assertType(String where, String type, Object value) {
        if (type.equals("any")) {
            return;
        }
        Class<?> expected = switch (type) {
            case "text" -> String.class;
            case "integer" -> Integer.class;
            case "number" -> Number.class;
            case "boolean" -> Boolean.class;
            case "object" -> Map.class;
            case "array" -> List.class;
            default -> throw new AssertionError(where + ": the description starts with no type"
                    + " (text, integer, number, boolean, object, array or any): " + type);
        };
        if (type.equals("integer") && value instanceof Long) {
            return;
        }
        assertThat(value).as("%s: %s", where, type).isInstanceOf(expected);
    }

    /** The entries {@code `key`: description} of a cell, those inside a {…} as the nested entries of the one before. */
    static List<Entry> entries(String cell) {
        String text = cell.trim();
        // the same text with every character inside {…} blanked, so that only this level's entries match
        StringBuilder level = new StringBuilder(text.length());
        int depth = 0;
        for (char c : text.toCharArray()) {
            if (c == '}') {
                depth--;
            }
            level.append(depth > 0 ? ' ' : c);
            if (c == '{') {
                depth++;
            }
        }
        assertThat(depth).as("balanced braces in: %s", text).isZero();

        List<int[]> starts = new ArrayList<>();
        Matcher entry = ENTRY.matcher(level);
        while (entry.find()) {
            starts.add(new int[] {entry.start(), entry.end()});
        }
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < starts.size(); i++) {
            int end = i + 1 < starts.size() ? starts.get(i + 1)[0] : text.length();
            String key = text.substring(starts.get(i)[0] + 1, starts.get(i)[1] - 2);
            String description = text.substring(starts.get(i)[1], end).trim();
            entries.add(new Entry(key, description, nested(description)));
        }
        return entries;
    }

    /** The entries of a description's first {…} of its own level. */
    private static List<Entry> nested(String description) {
        int open = description.indexOf('{');
        if (open < 0) {
            return List.of();
        }
        int depth = 0;
        for (int i = open; i < description.length(); i++) {
            char c = description.charAt(i);
            depth += c == '{' ? 1 : c == '}' ? -1 : 0;
            if (depth == 0) {
                return entries(description.substring(open + 1, i));
            }
        }
        throw new AssertionError("unbalanced braces in: " + description);
    }

    private static List<String> all(Pattern pattern, String text) {
        List<String> found = new ArrayList<>();
        Matcher matcher = pattern.matcher(text);
        while (matcher.find()) {
            found.add(matcher.group(1));
        }
        return found;
    }

    private static Map<String, Object> without(Map<String, Object> input, String key) {
        Map<String, Object> less = new LinkedHashMap<>(input);
        less.remove(key);
        return less;
    }

    private static AgentReply dispatch(String agent, String action, Map<String, Object> input) {
        AgentRequest request = new AgentRequest("exec-1", "wf", "step", agent, action, 1, 0, null, input, Map.of());
        return new ActionDispatcher(agent, DemoAgents.handlers().get(agent)).dispatch(request);
    }

    private static List<Object> comparable(AgentReply reply) {
        return java.util.Arrays.asList(reply.isOk(), reply.output(), reply.signals(), reply.sharedMemory(), reply.error(),
                reply.retryable());
    }
}
