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
USER coordinator
EXPOSE 8080
ENV COORDINATOR_HTTP_HOST=0.0.0.0 \
    COORDINATOR_HTTP_PORT=8080 \
    COORDINATOR_WORKFLOWS_DIR=/app/routes/workflows \
    COORDINATOR_DATA_DIR=/tmp/coordinator-data
ENTRYPOINT ["java", "-cp", "/app/lib/*", "dev.agentcoordinator.CoordinatorApp"]
