-- Every workflow version a coordinator has run, as it ran it: an execution runs to its end on the
-- version it started on, so a coordinator started with another version reads the definitions of the
-- versions still running from here and keeps their routes too (WorkflowVersions).
CREATE TABLE workflow_definitions (
    workflow_id  varchar(100) NOT NULL,
    version      integer      NOT NULL,
    definition   jsonb        NOT NULL,
    recorded_at  timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, version)
);
