package dev.agentcoordinator.ops;

import dev.agentcoordinator.engine.TestCoordinator;
import io.vertx.core.file.impl.FileResolverImpl;
import io.vertx.core.impl.VertxInternal;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The HTTP server leaves nothing in the temporary directory, even when the coordinator is stopped by SIGKILL. */
class HttpServerTempFilesTest {

    @Test
    void theHttpServersVertxHasNoFileCacheFolder() {
        VertxPlatformHttpServer server = TestCoordinator.shared().camelContext().hasService(VertxPlatformHttpServer.class);
        assertThat(server).isNotNull();
        // a cache folder (vertx-cache-<uuid>) is removed only by a shutdown hook
        assertThat(((FileResolverImpl) ((VertxInternal) server.getVertx()).fileResolver()).cacheDir()).isNull();
    }
}
