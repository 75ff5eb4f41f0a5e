package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.UUID;

import static dev.agentcoordinator.engine.TestCoordinator.shared;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A reply's correlation id names whatever workflow version its agent writes: a version found in no record is
 * remembered for a while (not looked up again on every such reply), but at most {@link RetainedVersions#MAX_MISSES}
 * of them. Every version ever named stayed, one entry each, for the coordinator's life (2,000 forged replies: 2,000).
 */
class RetainedVersionsMissesTest {

    @Test
    void versionsFoundInNoRecordAreRememberedBoundedly() throws Exception {
        RetainedVersions versions = new RetainedVersions(shared().dataSource(), WorkflowCatalog.load(List.<java.nio.file.Path>of()),
                null, null);
        String workflow = "ghost-" + UUID.randomUUID().toString().substring(0, 8);
        for (int version = 1; version <= RetainedVersions.MAX_MISSES + 200; version++) {
            assertThat(versions.fetch(workflow, version)).isEmpty();
        }
        assertThat(versions.missesKept()).isEqualTo(RetainedVersions.MAX_MISSES);
        // the latest miss is still remembered (no second lookup within its time), as before
        assertThat(versions.fetch(workflow, RetainedVersions.MAX_MISSES + 200)).isEmpty();
        assertThat(versions.missesKept()).isEqualTo(RetainedVersions.MAX_MISSES);
    }
}
