package dev.agentcoordinator.engine;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static dev.agentcoordinator.engine.ScriptedAgents.Reply;

/**
 * An agent's behaviour for tests that set a stage before an execution fails: its {@code fail} action answers with an
 * error once the test gives the execution its cue (at most 30 s), any other action completes at once.
 */
final class FailureOnCue implements Function<ScriptedAgents.Received, List<Reply>> {
    private final Map<String, CountDownLatch> cues = new ConcurrentHashMap<>();

    /** Lets the {@code fail} step of this execution answer (before or while it waits). */
    void cue(String executionId) {
        cueOf(executionId).countDown();
    }

    private CountDownLatch cueOf(String executionId) {
        return cues.computeIfAbsent(executionId, id -> new CountDownLatch(1));
    }

    @Override
    public List<Reply> apply(ScriptedAgents.Received r) {
        if (r.action().equals("fail")) {
            try {
                cueOf(r.request().path("execution_id").asText()).await(30, TimeUnit.SECONDS);   // until the test has set the stage
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return List.of(Reply.error("last fails", false));
        }
        return List.of(Reply.ok(Map.of("done", r.action())));
    }
}
