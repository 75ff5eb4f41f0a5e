package dev.agentcoordinator.config;

import org.apache.logging.log4j.core.config.Configurator;

import java.net.URISyntaxException;
import java.net.URL;

/** Switches Log4j to one JSON object per line when {@code coordinator.log.format=json}. */
public final class LogFormatSwitch {

    static final String JSON_CONFIG = "log4j2-json.xml";

    private LogFormatSwitch() {
    }

    public static void apply(CoordinatorSettings.LogFormat format) {
        if (format != CoordinatorSettings.LogFormat.JSON) {
            return;   // log4j2.xml is picked up by default
        }
        URL config = LogFormatSwitch.class.getClassLoader().getResource(JSON_CONFIG);
        if (config == null) {
            throw new IllegalStateException("classpath:" + JSON_CONFIG + " is missing");
        }
        try {
            Configurator.reconfigure(config.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot use " + config, e);
        }
    }
}
