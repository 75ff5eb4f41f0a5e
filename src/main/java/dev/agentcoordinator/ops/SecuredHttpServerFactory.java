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
 * Camel Main's HTTP server with the coordinator's basic authentication in front of every path
 * (found in the registry by Camel Main, which then uses it instead of its default factory). The
 * management endpoints (/observe/*) share this server's port, so the same guard covers Jolokia and
 * the metrics; only the health probes stay open (see {@link BasicAuthGuard}).
 */
public final class SecuredHttpServerFactory implements MainHttpServerFactory {

    private final DefaultMainHttpServerFactory delegate = new DefaultMainHttpServerFactory();
    private final BasicAuthGuard guard;

    public SecuredHttpServerFactory(BasicAuthGuard guard) {
        this.guard = guard;
    }

    @Override
    public Service newHttpServer(CamelContext camelContext, HttpServerConfigurationProperties configuration) {
        delegate.setCamelContext(camelContext);
        MainHttpServer server = (MainHttpServer) delegate.newHttpServer(camelContext, configuration);
        AuthenticationConfig authentication = server.getConfiguration().getAuthenticationConfig();
        authentication.getEntries().add(guard.entry());
        authentication.setEnabled(true);
        return server;
    }

    @Override
    public Service newHttpManagementServer(CamelContext camelContext, HttpManagementServerConfigurationProperties configuration) {
        delegate.setCamelContext(camelContext);
        return delegate.newHttpManagementServer(camelContext, configuration);
    }
}
