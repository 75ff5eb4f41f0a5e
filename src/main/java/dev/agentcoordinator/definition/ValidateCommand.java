package dev.agentcoordinator.definition;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Checks workflow definitions without starting anything:
 * {@code mvn -q exec:java -Dexec.mainClass=dev.agentcoordinator.definition.ValidateCommand -Dexec.args=routes/workflows}.
 * The argument is a folder (default {@value #DEFAULT_FOLDER}) or a single file. Exit code 0 when valid, 1 otherwise.
 */
public final class ValidateCommand {
    public static final String DEFAULT_FOLDER = "routes/workflows";

    private ValidateCommand() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Validates and prints the outcome; returns the exit code instead of exiting (for tests and embedding). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length > 1) {
            err.println("usage: ValidateCommand [folder-or-file]   (default " + DEFAULT_FOLDER + ")");
            return 2;
        }
        Path target = Path.of(args.length == 1 ? args[0] : DEFAULT_FOLDER);
        try {
            WorkflowCatalog catalog = Files.isRegularFile(target)
                    ? WorkflowCatalog.load(List.of(target))
                    : WorkflowCatalog.load(target);
            String ids = catalog.all().stream().map(WorkflowDefinition::id).collect(Collectors.joining(", "));
            out.println("OK: " + catalog.all().size() + " workflow(s) valid" + (ids.isEmpty() ? "" : ": " + ids));
            LookAlikeAgents.in(catalog).forEach(warning -> out.println("  warning: " + warning));
            return 0;
        } catch (InvalidDefinitionsException e) {
            err.println(e.getMessage());
            return 1;
        }
    }
}
