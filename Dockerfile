# The coordinator as a container: built with Maven, run on a plain JRE with its dependencies
# next to it. Broker and database come from outside (see docker-compose.yml).
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /build
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src src
RUN mvn -B -q -DskipTests package dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=target/lib

FROM eclipse-temurin:17-jre
RUN groupadd -r coordinator && useradd -r -g coordinator -d /app coordinator
WORKDIR /app
COPY --from=build /build/target/lib lib
COPY --from=build /build/target/agent-coordinator-*.jar lib/
COPY routes routes
RUN mkdir /app/cds && chown coordinator:coordinator /app/cds
USER coordinator
# A class-data archive, as ./coordinator makes one: a start on the embedded defaults (a throwaway broker and
# database on free ports, in a folder removed afterwards; as the image's user, since PostgreSQL does not run as
# root) writes the ~12,000 classes it loaded, which every start of this image then maps instead of loading
# (restart to ready 4.1 s against 5.7 to 6.3 s, measured with this image's layout and command outside Docker). If
# that start fails, the image has no archive and the JVM starts without one, as it does when the archive does not
# match (it warns, on stderr: the JVM's own log lines are not among the coordinator's JSON lines on stdout).
RUN java -XX:ArchiveClassesAtExit=/app/cds/coordinator.jsa -Xlog:cds=off -Xlog:cds+dynamic=off -cp "/app/lib/*" \
        -Dcoordinator.data.dir=/tmp/cds-training -Dcoordinator.http.port=0 -Dcoordinator.broker.embedded.port=0 \
        -Dcoordinator.db.embedded.port=0 dev.agentcoordinator.CoordinatorApp --exit-when-ready \
        > /tmp/cds-training.log 2>&1 \
    || (echo "no class-data archive, the image starts without one:"; tail -n 20 /tmp/cds-training.log); \
    rm -rf /tmp/cds-training /tmp/cds-training.log /tmp/embedded-pg
EXPOSE 8080
ENV COORDINATOR_HTTP_HOST=0.0.0.0 \
    COORDINATOR_HTTP_PORT=8080 \
    COORDINATOR_WORKFLOWS_DIR=/app/routes/workflows \
    COORDINATOR_DATA_DIR=/tmp/coordinator-data
# ExitOnOutOfMemoryError: the container ends and is restarted, rather than run on without the threads the error killed
ENTRYPOINT ["java", "-XX:+ExitOnOutOfMemoryError", "-XX:SharedArchiveFile=/app/cds/coordinator.jsa", "-Xlog:disable", "-Xlog:all=warning:stderr:uptime,level,tags", \
            "-cp", "/app/lib/*", "dev.agentcoordinator.CoordinatorApp"]
