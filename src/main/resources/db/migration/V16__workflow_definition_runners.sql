-- Which coordinator runs which workflow version, as recorded (WorkflowVersions). A definition changed
-- without a new version is refused while a coordinator that runs the recorded one is alive: two
-- definitions under one version number would otherwise run side by side, each coordinator moving
-- the other's executions on by its own. Alive means having a session on this database
-- (pg_stat_activity, whose application_name is the coordinator's instance id); rows of coordinators
-- without one are deleted at every coordinator's start.
CREATE TABLE workflow_definition_runners (
    workflow_id  varchar(100) NOT NULL,
    version      integer      NOT NULL,
    instance_id  text         NOT NULL,
    since        timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, version, instance_id)
);
