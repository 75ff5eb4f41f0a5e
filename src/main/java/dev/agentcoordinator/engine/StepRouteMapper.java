package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import org.apache.camel.builder.RouteBuilder;

/**
 * Compiles one kind of step into its routes (as Conductor has one TaskMapper per task type):
 * a new kind of step is one new mapper.
 */
public interface StepRouteMapper {

    boolean handles(WorkflowStep step);

    /** Adds the step's own route ({@link Endpoints#step}) and its result route ({@link Endpoints#result}). */
    void addRoutes(RouteBuilder routes, WorkflowDefinition workflow, WorkflowStep step);
}
