package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.DefinitionReader;
import dev.agentcoordinator.definition.InvalidDefinitionsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.concurrent.TimeUnit;

/**
 * Reloads the workflow folder when a definition file in it is created, changed or deleted
 * ({@code coordinator.workflows.watch}), as {@code POST /api/workflows/reload} does, and when the ConfigMap a
 * Kubernetes volume mounts there is updated. An editor's save is often several events (a temporary file, a
 * rename): the reload waits until the folder has been quiet for {@link #QUIET_MS}. A folder with a problem is not
 * loaded: the WARN line names every problem, and the workflows loaded before run on until the next change.
 */
public final class WorkflowFolderWatch implements org.apache.camel.Service {
    private static final Logger LOG = LoggerFactory.getLogger(WorkflowFolderWatch.class);

    /** How long the folder must stay unchanged before it is reloaded. */
    static final long QUIET_MS = 300;

    private final Path folder;
    private final WorkflowReload reload;
    private WatchService watcher;
    private Thread thread;

    public WorkflowFolderWatch(Path folder, WorkflowReload reload) {
        this.folder = folder;
        this.reload = reload;
    }

    @Override
    public synchronized void start() {
        if (thread != null) {
            return;
        }
        try {
            watcher = folder.getFileSystem().newWatchService();
            folder.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot watch the workflow folder " + folder.toAbsolutePath() + ": " + e, e);
        }
        WatchService watching = watcher;   // the thread's own: stop() clears the field while a reload may run
        thread = new Thread(() -> watch(watching), "coordinator-workflows-watch");
        thread.setDaemon(true);
        thread.start();
        LOG.info("Watching {}: a changed workflow definition is reloaded", folder.toAbsolutePath().normalize());
    }

    private void watch(WatchService watcher) {
        try {
            while (true) {
                WatchKey key = watcher.take();
                boolean definitions = pollDefinitionChanges(key);
                // quiet for a while: the save is over (further events of it are taken here too)
                WatchKey more;
                while ((more = watcher.poll(QUIET_MS, TimeUnit.MILLISECONDS)) != null) {
                    definitions |= pollDefinitionChanges(more);
                }
                if (definitions) {
                    reloadNow();
                }
            }
        } catch (ClosedWatchServiceException | InterruptedException stopped) {
            // closed by stop()
        }
    }

    /**
     * Takes the key's events; whether one of them names a definition file (not a hidden one, an editor's backup), or
     * the {@code ..data} link of a Kubernetes ConfigMap or Secret volume: an update there swaps that link to a new
     * folder of files at once, and the files' own names, links into it, see no event.
     */
    private static boolean pollDefinitionChanges(WatchKey key) {
        boolean definitions = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                definitions = true;
            } else if (event.context() instanceof Path name) {
                String file = name.getFileName().toString();
                definitions |= file.equals(CONFIG_MAP_DATA) || !file.startsWith(".") && DefinitionReader.isDefinitionFile(name);
            }
        }
        key.reset();
        return definitions;
    }

    /** The link a Kubernetes volume of a ConfigMap swaps to publish an update (atomic writer). */
    static final String CONFIG_MAP_DATA = "..data";

    private void reloadNow() {
        try {
            reload.reload();   // logs what changed
        } catch (InvalidDefinitionsException e) {
            LOG.warn("Workflows not reloaded after a change in {}: the loaded ones run on. {}", folder.toAbsolutePath().normalize(),
                    e.getMessage());
        } catch (RuntimeException | StackOverflowError e) {
            // (a StackOverflowError ended the watch's thread, and every later change went unseen without a word)
            LOG.warn("Workflows not reloaded after a change in {}: {}", folder.toAbsolutePath().normalize(), e.toString(), e);
        }
    }

    @Override
    public synchronized void stop() {
        if (watcher == null) {
            return;
        }
        try {
            watcher.close();
        } catch (IOException ignored) {
            // the thread ends all the same
        }
        watcher = null;
        thread = null;
    }
}
