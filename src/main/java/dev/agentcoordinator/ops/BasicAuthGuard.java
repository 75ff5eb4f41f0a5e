package dev.agentcoordinator.ops;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.AuthenticationProvider;
import io.vertx.ext.auth.authentication.Credentials;
import io.vertx.ext.auth.authentication.UsernamePasswordCredentials;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import io.vertx.ext.web.handler.BasicAuthHandler;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * HTTP basic authentication with the one user of {@code coordinator.http.user/password}, for every
 * path except the health probes, which orchestrators (docker, Kubernetes) call without credentials
 * and which then tell no more than UP or DOWN.
 */
public final class BasicAuthGuard {

    static final String REALM = "agent-coordinator";
    /** Paths answered without credentials. */
    static final List<String> OPEN_PATHS = List.of("/observe/health");

    private final String user;
    private final byte[] password;

    public BasicAuthGuard(String user, String password) {
        this.user = user;
        this.password = password.getBytes(StandardCharsets.UTF_8);
    }

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        AuthenticationConfig.AuthenticationConfigEntry entry = new AuthenticationConfig.AuthenticationConfigEntry();
        entry.setPath("/*");
        entry.setAuthenticationProviderFactory(vertx -> new SingleUserProvider());
        entry.setAuthenticationHandlerFactory(new AuthenticationConfig.AuthenticationHandlerFactory() {
            @Override
            public <T extends AuthenticationProvider> AuthenticationHandler createAuthenticationHandler(T provider) {
                return new ProbesOpen(BasicAuthHandler.create(provider, REALM));
            }
        });
        return entry;
    }

    static boolean isOpen(String path) {
        return path != null && OPEN_PATHS.stream().anyMatch(open -> path.equals(open) || path.startsWith(open + "/"));
    }

    /**
     * Query parameters with which Camel's health endpoint tells more than UP or DOWN (each check's details,
     * stack traces): only for a caller with credentials.
     */
    static final List<String> DETAIL_PARAMETERS = List.of("exposureLevel", "stackTrace", "data");

    static boolean asksForDetails(io.vertx.core.MultiMap query) {
        return DETAIL_PARAMETERS.stream().anyMatch(query::contains);
    }

    /** Lets the health probes through, asks everything else (and a probe asking for details) for credentials. */
    private record ProbesOpen(AuthenticationHandler basic) implements AuthenticationHandler {
        @Override
        public void handle(RoutingContext context) {
            if (isOpen(context.normalizedPath()) && !asksForDetails(context.queryParams())) {
                context.next();
            } else {
                if (context.request().method() == io.vertx.core.http.HttpMethod.OPTIONS) {
                    // Vert.x's BasicAuthHandler lets a CORS preflight (OPTIONS naming Authorization in
                    // Access-Control-Request-Headers) through unauthenticated; the coordinator answers no CORS, so an
                    // OPTIONS is authenticated as any other request
                    context.request().headers().remove(io.vertx.core.http.HttpHeaders.ACCESS_CONTROL_REQUEST_HEADERS);
                }
                basic.handle(context);
            }
        }
    }

    private final class SingleUserProvider implements AuthenticationProvider {
        @Override
        public Future<User> authenticate(Credentials credentials) {
            if (credentials instanceof UsernamePasswordCredentials given && matches(given.getUsername(), given.getPassword())) {
                return Future.succeededFuture(User.fromName(user));
            }
            return Future.failedFuture("invalid user or password");
        }

        @Override
        @SuppressWarnings("deprecation")
        public void authenticate(JsonObject credentials, io.vertx.core.Handler<io.vertx.core.AsyncResult<User>> resultHandler) {
            authenticate(new UsernamePasswordCredentials(credentials)).onComplete(resultHandler);
        }

        private boolean matches(String givenUser, String givenPassword) {
            // constant time on the password, so that timing does not reveal how much of it matched
            boolean passwordOk = givenPassword != null
                    && MessageDigest.isEqual(password, givenPassword.getBytes(StandardCharsets.UTF_8));
            return passwordOk & user.equals(givenUser);
        }
    }
}
