package dev.agentcoordinator.ops;

import org.apache.camel.CamelContext;
import org.apache.camel.Service;
import org.apache.camel.component.platform.http.main.DefaultMainHttpServerFactory;
import org.apache.camel.component.platform.http.main.MainHttpServer;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;
import org.apache.camel.main.HttpManagementServerConfigurationProperties;
import org.apache.camel.main.HttpServerConfigurationProperties;
import org.apache.camel.main.MainHttpServerFactory;

/**
 * Camel Main's HTTP server with the coordinator's guards in front of every path (found in the
 * registry by Camel Main, which then uses it instead of its default factory): {@link MediaTypeCase},
 * {@link PrometheusAccept} and {@link HeadAsGet}, which read a request as HTTP defines it, the {@link CrossSiteGuard},
 * the basic authentication, when enabled, the {@link BodyEncodingGuard}, the {@link ClosedApiGate}, then
 * {@link RefusedJson} (after the gate, as the router's own 406 comes after it). Camel's server installs them before
 * it listens, and runs them in this order before any route it serves. The management endpoints
 * (/observe/*) share this server's port, so the same authentication covers Jolokia and the metrics;
 * only the health probes stay open (see {@link BasicAuthGuard}).
 */
public final class GuardedHttpServerFactory implements MainHttpServerFactory {

    private final DefaultMainHttpServerFactory delegate = new DefaultMainHttpServerFactory();
    private final BasicAuthGuard authentication;
    private final ClosedApiGate gate;

    /** {@code authentication} null: none. */
    public GuardedHttpServerFactory(BasicAuthGuard authentication, ClosedApiGate gate) {
        this.authentication = authentication;
        this.gate = gate;
    }

    @Override
    public Service newHttpServer(CamelContext camelContext, HttpServerConfigurationProperties configuration) {
        delegate.setCamelContext(camelContext);
        MainHttpServer server = (MainHttpServer) delegate.newHttpServer(camelContext, configuration);
        AuthenticationConfig guards = server.getConfiguration().getAuthenticationConfig();
        // entries of the same path run in the order of this list
        guards.getEntries().add(new MediaTypeCase().entry());
        guards.getEntries().add(new PrometheusAccept().entry());
        guards.getEntries().add(new HeadAsGet().entry());
        guards.getEntries().add(new CrossSiteGuard(authentication == null, configuration.getHost()).entry());
        if (authentication != null) {
            guards.getEntries().add(authentication.entry());
        }
        guards.getEntries().add(new JsonBodyByDefault().entry());
        guards.getEntries().add(new BodyEncodingGuard().entry());
        guards.getEntries().add(gate.entry());
        guards.getEntries().add(new RefusedJson().entry());
        guards.setEnabled(true);
        return server;
    }

    /**
     * An entry of the server's authentication configuration that runs {@code guard} before every path and
     * authenticates nobody: the one place Camel's server takes handlers before it listens.
     */
    static AuthenticationConfig.AuthenticationConfigEntry onEveryPath(io.vertx.ext.web.handler.AuthenticationHandler guard) {
        AuthenticationConfig.AuthenticationConfigEntry entry = new AuthenticationConfig.AuthenticationConfigEntry();
        entry.setPath("/*");
        entry.setAuthenticationProviderFactory(vertx -> null);   // nobody to authenticate
        entry.setAuthenticationHandlerFactory(new AuthenticationConfig.AuthenticationHandlerFactory() {
            @Override
            public <T extends io.vertx.ext.auth.authentication.AuthenticationProvider> io.vertx.ext.web.handler.AuthenticationHandler
                    createAuthenticationHandler(T none) {
                return guard;
            }
        });
        return entry;
    }

    @Override
    public Service newHttpManagementServer(CamelContext camelContext, HttpManagementServerConfigurationProperties configuration) {
        delegate.setCamelContext(camelContext);
        return delegate.newHttpManagementServer(camelContext, configuration);
    }
}
