"""An agent over AMQP 1.0 whose work (5 s by default) outlasts its step's timeout_ms (2 s): heartbeats keep the
attempt in time, and the coordinator's stop answers (cancel, timeout) end the work early without a reply.

    python3 amqp_long_work_agent.py amqp://127.0.0.1:61616 slow-py 5   # python3-qpid-proton 0.37
"""
import json
import os
import sys
import threading
import time
import uuid

from proton import Message, symbol
from proton.handlers import MessagingHandler
from proton.reactor import ApplicationEvent, Container, EventInjector, ReceiverOption

BROKER = sys.argv[1] if len(sys.argv) > 1 else "amqp://localhost:61616"
AGENT = sys.argv[2] if len(sys.argv) > 2 else "slow-py"
WORK_SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 5
HEARTBEAT_SECONDS = 0.5
STOPS = f"stops.{AGENT}.{uuid.uuid4()}"  # this agent's queue for the coordinator's stop answers


def handle(request, stop_requested):
    """The agent's logic: long work that gives up when the coordinator says its attempt is over."""
    deadline = time.monotonic() + WORK_SECONDS
    while time.monotonic() < deadline:
        if stop_requested():
            return None
        time.sleep(0.1)
    return {"status": "ok", "output": {"worked_s": WORK_SECONDS}}


def exit_for_restart(why):
    print(f"{why}: exiting", file=sys.stderr, flush=True)
    os._exit(1)


class AnycastQueue(ReceiverOption):
    """Asks Artemis for a queue (anycast), so an agent started before the coordinator gets no topic."""

    def apply(self, receiver):
        receiver.source.capabilities.put_object(symbol("queue"))


class Work:
    def __init__(self, request, delivery):
        self.request, self.delivery = request, delivery
        self.reply, self.stop_reason, self.reply_wanted = None, None, False


class Heartbeat:
    """A timer task on the reactor's thread: beats while the work is in progress."""

    def __init__(self, agent, work):
        self.agent, self.work = agent, work

    def on_timer_task(self, event):
        if self.work.request.correlation_id in self.agent.working:
            self.agent.replies.send(Message(address=self.work.request.reply_to, reply_to=STOPS,
                                            correlation_id=self.work.request.correlation_id,
                                            body=json.dumps({"status": "running"})))
            event.container.schedule(HEARTBEAT_SECONDS, self)


class Agent(MessagingHandler):
    def __init__(self):
        super().__init__(prefetch=0, auto_accept=False)
        self.injector = EventInjector()  # the worker thread hands its result back to the reactor's thread
        self.working = {}  # correlation id -> Work

    def on_start(self, event):
        event.container.selectable(self.injector)
        connection = event.container.connect(BROKER)
        self.requests = event.container.create_receiver(connection, f"agent.{AGENT}", options=AnycastQueue())
        self.stops = event.container.create_receiver(connection, STOPS, options=AnycastQueue())
        self.stops.flow(100)
        self.requests.flow(1)
        self.replies = event.container.create_sender(connection, None)  # anonymous: sends to any address

    # Once connected: the broker closed the connection (a restart: amqp:connection:forced) or it was lost, and
    # proton 0.37 does not connect again then. Exit, so that a supervisor (systemd, Kubernetes) starts the agent
    # again; a request it had not acknowledged is redelivered. Before the first connection, proton's own
    # reconnection waits for the broker (started before the coordinator).
    def on_connection_opened(self, event):
        self.connected = True

    def on_connection_remote_close(self, event):
        exit_for_restart(f"the broker closed the connection ({event.connection.remote_condition})")

    def on_transport_closed(self, event):
        if getattr(self, "connected", False):
            exit_for_restart(f"the connection to the broker was lost ({event.transport.condition})")

    def on_message(self, event):
        if event.receiver == self.stops:  # the coordinator's answer to a heartbeat
            work = self.working.get(event.message.correlation_id)
            if work is not None:
                answer = json.loads(event.message.body)
                work.stop_reason = answer["reason"]
                work.reply_wanted = bool(answer.get("reply_wanted"))
                print("told to stop:", work.stop_reason, flush=True)
            self.accept(event.delivery)
            self.stops.flow(1)
            return
        properties = event.message.properties or {}
        if properties.get("message_kind") == "agent_message" or event.message.reply_to is None:
            print("dropped, not a step request with a reply-to:", str(event.message.body)[:200], flush=True)
            self.accept(event.delivery)
            self.requests.flow(1)
            return
        work = Work(event.message, event.delivery)
        self.working[work.request.correlation_id] = work
        event.container.schedule(HEARTBEAT_SECONDS, Heartbeat(self, work))
        threading.Thread(target=self.run, args=(work,), daemon=True).start()

    def run(self, work):  # on a thread of its own: the reactor keeps beating meanwhile
        try:
            work.reply = handle(json.loads(work.request.body), lambda: work.stop_reason is not None)
        except Exception as e:
            work.reply = {"status": "error", "error": str(e), "retryable": True}
        self.injector.trigger(ApplicationEvent("work_done", subject=work))

    def on_work_done(self, event):
        work = event.subject
        del self.working[work.request.correlation_id]
        if work.stop_reason is not None and work.reply_wanted:
            # a cancel cut the work off and the step's undo waits to learn what was done: handle() stops before it does
            # anything lasting, so nothing is to be undone (an agent that did its work would reply "ok")
            work.reply = work.reply or {"status": "error", "error": "stopped before the work was done", "retryable": False}
        if work.stop_reason is None or work.reply_wanted:  # a stopped attempt's reply would otherwise be recorded and ignored
            self.replies.send(Message(address=work.request.reply_to, correlation_id=work.request.correlation_id,
                                      durable=True, body=json.dumps(work.reply)))
            print("replied", flush=True)
        else:
            print("stopped, no reply sent", flush=True)
        self.accept(work.delivery)  # acknowledge only after the reply is sent
        self.requests.flow(1)  # ready for the next request


Container(Agent()).run()
