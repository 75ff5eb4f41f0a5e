package dev.agentcoordinator.ops;

import dev.agentcoordinator.definition.InvalidDefinitionsException;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.engine.ReloadNotices;
import dev.agentcoordinator.engine.WorkflowReload;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;

/**
 * Registers {@link WorkflowsControlMBean} on the platform MBean server, where Hawtio (through Jolokia at
 * /observe/jolokia) finds it beside Camel's: an operator reloads the workflow folder from the console.
 * Unregistered when Camel stops.
 */
public final class WorkflowsControl implements WorkflowsControlMBean, org.apache.camel.Service {
    private final WorkflowCatalog catalog;
    private final WorkflowReload reload;
    private final ReloadNotices others;
    /** dev.agentcoordinator:type=workflows,context=&lt;Camel's management name&gt;: one per coordinator in a JVM. */
    private final ObjectName name;

    public WorkflowsControl(WorkflowCatalog catalog, WorkflowReload reload, ReloadNotices others, org.apache.camel.CamelContext context) {
        this.catalog = catalog;
        this.reload = reload;
        this.others = others;
        try {
            this.name = new ObjectName("dev.agentcoordinator:type=workflows,context=" + ObjectName.quote(context.getManagementName()));
        } catch (javax.management.MalformedObjectNameException e) {
            throw new IllegalArgumentException(e);
        }
    }

    public ObjectName name() {
        return name;
    }

    @Override
    public String[] getLoadedWorkflows() {
        return catalog.all().stream()
                .map(workflow -> workflow.id() + " version " + workflow.versionOrDefault() + " <- " + workflow.trigger())
                .toArray(String[]::new);
    }

    @Override
    public String reload() {
        try {
            WorkflowReload.Outcome outcome = reload.reload();
            com.fasterxml.jackson.databind.node.ArrayNode answers = others.tellOthers();
            return WorkflowReload.describe(outcome) + (answers.isEmpty() ? "" : ". The other coordinators: " + ReloadNotices.describe(answers));
        } catch (InvalidDefinitionsException e) {
            return "not reloaded, the loaded workflows run on: " + e.getMessage();
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    @Override
    public void start() {
        try {
            ManagementFactory.getPlatformMBeanServer().registerMBean(this, name);
        } catch (javax.management.JMException e) {
            throw new IllegalStateException("cannot register " + name + ": " + e, e);
        }
    }

    @Override
    public void stop() {
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
        } catch (javax.management.InstanceNotFoundException alreadyGone) {
            // registered by no one, or unregistered before
        } catch (javax.management.JMException e) {
            throw new IllegalStateException("cannot unregister " + name + ": " + e, e);
        }
    }
}
