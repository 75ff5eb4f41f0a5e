package dev.agentcoordinator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * pom.xml leaves out of surefire's own discovery exactly the classes {@link ChildProcessTests} runs: one
 * annotated but not left out would run twice, once beside another such class; one left out but not
 * annotated would never run.
 */
class ChildProcessClassesLeftToTheSuiteTest {

    @Test
    void theSurefireExcludesAreTheClassesThatStartChildProcesses() throws Exception {
        Set<String> annotated = annotatedTestClasses();
        assertThat(annotated).as("classes marked @StartsChildProcesses").isNotEmpty();
        List<Pattern> excludes = surefireExcludes();
        Set<String> excluded = new TreeSet<>();
        try (Stream<Path> files = Files.walk(testSources())) {
            files.map(file -> testSources().relativize(file).toString().replace('\\', '/'))
                    .filter(file -> file.endsWith("Test.java"))
                    .filter(file -> excludes.stream().anyMatch(exclude -> exclude.matcher(file).matches()))
                    .forEach(file -> excluded.add(file.substring(0, file.length() - ".java".length()).replace('/', '.')));
        }
        assertThat(excluded).as("test classes pom.xml's surefire excludes leave to ChildProcessTests")
                .containsExactlyInAnyOrderElementsOf(annotated);
    }

    private static Set<String> annotatedTestClasses() throws IOException, URISyntaxException {
        Path classes = Path.of(ChildProcessTests.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Set<String> annotated = new TreeSet<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith("Test.class"))::iterator) {
                String name = classes.relativize(file).toString().replace('\\', '/').replace('/', '.');
                name = name.substring(0, name.length() - ".class".length());
                try {
                    if (Class.forName(name, false, ChildProcessTests.class.getClassLoader())
                            .isAnnotationPresent(StartsChildProcesses.class)) {
                        annotated.add(name);
                    }
                } catch (ClassNotFoundException e) {
                    throw new IllegalStateException(name, e);
                }
            }
        }
        return annotated;
    }

    /** The {@code <exclude>} patterns of pom.xml's default surefire configuration, as regular expressions. */
    private static List<Pattern> surefireExcludes() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher block = Pattern.compile("<excludes>(.*?)</excludes>", Pattern.DOTALL).matcher(pom);
        assertThat(block.find()).as("an <excludes> block in pom.xml").isTrue();
        Matcher exclude = Pattern.compile("<exclude>\\s*([^<\\s]+)\\s*</exclude>").matcher(block.group(1));
        List<Pattern> patterns = new ArrayList<>();
        while (exclude.find()) {
            patterns.add(glob(exclude.group(1)));
        }
        return patterns;
    }

    /** Surefire's pattern: {@code **} any folders, {@code *} any part of one name. */
    private static Pattern glob(String glob) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            if (glob.startsWith("**", i)) {
                regex.append(".*");
                i++;
            } else if (glob.charAt(i) == '*') {
                regex.append("[^/]*");
            } else {
                regex.append(Pattern.quote(String.valueOf(glob.charAt(i))));
            }
        }
        return Pattern.compile(regex.toString());
    }

    private static Path testSources() {
        return Path.of("src/test/java");
    }
}
