package dev.agentcoordinator.bench;

import dev.agentcoordinator.CoordinatorApp;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * The class-data archive (AppCDS) that {@code ./coordinator} starts the coordinator with, made the same
 * way for the harness's classpath: its directories packed as jars (the JVM archives no class from a
 * directory), then one start on the embedded defaults that stops once ready ({@code --exit-when-ready})
 * and writes the classes it loaded into the archive as the JVM exits.
 */
final class ClassDataArchive {

    private final String classpath;
    private final Path archive;

    private ClassDataArchive(String classpath, Path archive) {
        this.classpath = classpath;
        this.archive = archive;
    }

    static ClassDataArchive make(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        List<String> entries = new ArrayList<>();
        for (String entry : CoordinatorProcess.classpath().split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (Files.isDirectory(path)) {
                Path jar = dir.resolve("classes-" + entries.size() + ".jar");
                pack(path, jar);
                entries.add(jar.toString());
            } else {
                entries.add(entry);
            }
        }
        String classpath = String.join(File.pathSeparator, entries);
        Path archive = dir.resolve("coordinator.jsa");
        Path log = dir.resolve("training-log.txt");
        Process training = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds=off", "-Xlog:cds+dynamic=off", "-cp", classpath,
                "-Dcoordinator.data.dir=" + dir.resolve("training-data"), "-Dcoordinator.http.port=0",
                "-Dcoordinator.broker.embedded.port=0", "-Dcoordinator.db.embedded.port=0",
                CoordinatorApp.class.getName(), "--exit-when-ready")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!training.waitFor(180, TimeUnit.SECONDS)) {
            training.destroyForcibly();
            throw new IOException("the start that makes the class-data archive did not end within 180 s: " + log);
        }
        if (training.exitValue() != 0 || !Files.isRegularFile(archive)) {
            throw new IOException("the start that makes the class-data archive failed (exit " + training.exitValue() + "): " + log);
        }
        return new ClassDataArchive(classpath, archive);
    }

    /** The harness's classpath with its directories replaced by the jars the archive was made from. */
    String classpath() {
        return classpath;
    }

    /** The JVM option that starts with the archive. */
    List<String> jvmArgs() {
        return List.of("-XX:SharedArchiveFile=" + archive);
    }

    long sizeBytes() throws IOException {
        return Files.size(archive);
    }

    /** A jar of {@code dir}, directory entries included (Flyway lists db/migration through them). */
    private static void pack(Path dir, Path jar) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar);
             JarOutputStream out = new JarOutputStream(file);
             Stream<Path> paths = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) paths.sorted()::iterator) {
                if (path.equals(dir)) {
                    continue;
                }
                String name = dir.relativize(path).toString().replace(File.separatorChar, '/');
                if (Files.isDirectory(path)) {
                    out.putNextEntry(new JarEntry(name + "/"));
                } else {
                    out.putNextEntry(new JarEntry(name));
                    Files.copy(path, out);
                }
                out.closeEntry();
            }
        }
    }
}
