package dev.agentcoordinator.ops;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What a browser sends for another site's page is refused; what scripts, agents and this machine's pages send passes. */
class CrossSiteGuardTest {
    private final CrossSiteGuard withoutPassword = new CrossSiteGuard(true, "127.0.0.1");
    private final CrossSiteGuard withPassword = new CrossSiteGuard(false, "0.0.0.0");

    @Test
    void aBrowsersRequestForAnotherSitesPageIsRefused() {
        assertThat(withPassword.refusal("cross-site", null, "coordinator:8080")).contains("Sec-Fetch-Site: cross-site");
        assertThat(withPassword.refusal("same-site", null, "coordinator:8080")).contains("Sec-Fetch-Site: same-site");
        // an older browser: no Sec-Fetch-Site, but the Origin of the page
        assertThat(withPassword.refusal(null, "http://evil.example", "coordinator:8080")).contains("Origin: http://evil.example");
        assertThat(withPassword.refusal(null, "null", "coordinator:8080")).contains("Origin: null");
        assertThat(withoutPassword.refusal(null, "http://evil.example", "127.0.0.1:8080")).contains("Origin: http://evil.example");
    }

    /** DNS rebinding: the page's own name, pointed at 127.0.0.1, makes its requests same-origin. */
    @Test
    void withoutAPasswordAHostThatIsNotThisMachinesIsRefused() {
        assertThat(withoutPassword.refusal("same-origin", "http://attacker.example:8080", "attacker.example:8080"))
                .startsWith("refused: Host attacker.example:8080 is not a name of this coordinator");
        assertThat(withoutPassword.refusal(null, null, "attacker.example")).startsWith("refused: Host attacker.example ");
        // with a password a browser cannot authenticate under another name: any Host passes (a proxy's, a service's)
        assertThat(withPassword.refusal("same-origin", "http://coordinator.internal:8080", "coordinator.internal:8080")).isNull();
    }

    @Test
    void scriptsAgentsAndThisMachinesPagesPass() {
        for (String host : new String[] {"127.0.0.1:8080", "localhost:8080", "LOCALHOST", "[::1]:8080", "127.0.0.2:80", "app.localhost:8080"}) {
            assertThat(withoutPassword.refusal(null, null, host)).as(host).isNull();
        }
        assertThat(withoutPassword.refusal(null, null, null)).as("HTTP/1.0, no Host").isNull();
        assertThat(withoutPassword.refusal("same-origin", "http://127.0.0.1:8080", "127.0.0.1:8080")).isNull();
        assertThat(withoutPassword.refusal("none", null, "localhost:8080")).as("a typed URL").isNull();
        // Hawtio on this machine, whose proxy forwards its browser's Origin
        assertThat(withoutPassword.refusal("same-origin", "http://localhost:8090", "127.0.0.1:8080")).isNull();
        assertThat(withPassword.refusal(null, "http://coordinator:8080", "coordinator:8080")).as("same origin").isNull();
    }
}
