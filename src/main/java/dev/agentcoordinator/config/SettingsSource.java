package dev.agentcoordinator.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;

/**
 * One layer of settings (a properties file, the environment, system properties, overrides) and a
 * name for it, so that an invalid value can be reported together with where it came from.
 * {@code written} names the {@code coordinator.*} keys the layer sets where it can list them (a file,
 * system properties), so that a misspelt one is not silently ignored; empty for the others.
 */
record SettingsSource(String origin, Function<String, String> lookup, Set<String> written) {

    static final String PREFIX = "coordinator.";

    /** {@code coordinator.broker.embedded.data-dir} ↔ {@code COORDINATOR_BROKER_EMBEDDED_DATA_DIR}. */
    static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** Accepts {@code broker.url} as well as {@code coordinator.broker.url}. */
    static String qualify(String key) {
        return key.startsWith(PREFIX) ? key : PREFIX + key;
    }

    String get(String key) {
        return lookup.apply(key);
    }

    static SettingsSource of(String origin, Map<String, String> values) {
        Map<String, String> qualified = new LinkedHashMap<>();
        values.forEach((k, v) -> qualified.put(qualify(k), v));
        return new SettingsSource(origin, qualified::get, Set.of());
    }

    /** Not checked for unknown keys: the environment is shared (COORDINATOR_URL of scripts/hawtio.sh, COORDINATOR_CDS of ./coordinator). */
    static SettingsSource environment(Map<String, String> env) {
        return new SettingsSource("environment", key -> env.get(envName(key)), Set.of());
    }

    static SettingsSource systemProperties() {
        return new SettingsSource("system properties", System::getProperty, coordinatorKeys(System.getProperties()));
    }

    /** The classpath resource, or an empty source when it does not exist. */
    static SettingsSource classpath(String resource) {
        try (InputStream in = SettingsSource.class.getClassLoader().getResourceAsStream(resource)) {
            return in == null ? empty("classpath:" + resource) : fromProperties("classpath:" + resource, read(in));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read classpath:" + resource, e);
        }
    }

    static SettingsSource file(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return fromProperties(file.toString(), read(in));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("configuration file " + file + " does not exist", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new IllegalArgumentException("cannot read configuration file " + file + ": permission denied", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read configuration file " + file + ": " + e, e);
        }
    }

    static SettingsSource empty(String origin) {
        return new SettingsSource(origin, key -> null, Set.of());
    }

    private static SettingsSource fromProperties(String origin, Properties properties) {
        return new SettingsSource(origin, properties::getProperty, coordinatorKeys(properties));
    }

    private static Set<String> coordinatorKeys(Properties properties) {
        return properties.stringPropertyNames().stream().filter(name -> name.startsWith(PREFIX))
                .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
    }

    private static Properties read(InputStream in) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = new java.io.InputStreamReader(in, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        return properties;
    }
}
