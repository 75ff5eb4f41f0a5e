"""An agent over STOMP whose work (20 s) outlasts its step's timeout_ms (2 s): heartbeats keep the attempt
in time, and the coordinator's stop answers (cancel, timeout) end the work early without a reply.

    python3 stomp_long_work_agent.py 127.0.0.1 61616      # stomp.py 8 (Debian: python3-stomp)
"""
import json
import os
import sys
import threading
import time
import uuid

import stomp

HOST, PORT = sys.argv[1], int(sys.argv[2])
AGENT, HEARTBEAT_SECONDS = "slow-py", 0.5
STOPS = f"stops.{AGENT}.{uuid.uuid4()}"   # this agent's queue for the coordinator's stop answers
stopped = {}                              # correlation id -> reason


class Agent(stomp.ConnectionListener):
    def __init__(self, connection):
        self.connection = connection

    def on_disconnected(self):
        # stomp.py does not reconnect: exit, so that the supervisor (systemd, Kubernetes) starts it again,
        # rather than live on consuming nothing while its steps time out
        print("disconnected from the broker: exiting", file=sys.stderr, flush=True)
        os._exit(1)

    def on_message(self, frame):
        if frame.headers["destination"].endswith(STOPS):
            answer = json.loads(frame.body)
            if answer.get("status") == "stop":
                stopped[frame.headers["correlation-id"]] = answer
                print("told to stop:", answer["reason"], flush=True)
            return
        if frame.headers.get("message_kind") == "agent_message" or "reply-to" not in frame.headers:
            print("dropped, not a step request with a reply-to:", frame.body[:200], flush=True)
            self.connection.ack(frame.headers["ack"])
            return
        threading.Thread(target=self.work, args=(frame,), daemon=True).start()

    def work(self, frame):
        cid = frame.headers["correlation-id"]
        reply_to = frame.headers["reply-to"].removeprefix("queue://")
        headers = {"correlation-id": cid, "destination-type": "ANYCAST"}
        done = threading.Event()

        def heartbeats():
            while not done.wait(HEARTBEAT_SECONDS):
                self.connection.send(destination=reply_to, body=json.dumps({"status": "running"}),
                                     headers={**headers, "reply-to": STOPS})

        threading.Thread(target=heartbeats, daemon=True).start()
        for _ in range(200):              # 20 s of work, unless told to stop
            if cid in stopped:
                break
            time.sleep(0.1)
        done.set()
        if cid in stopped and stopped[cid].get("reply_wanted"):
            # a cancel cut the work off and the step's undo waits to learn what was done: this work stops before it
            # does anything lasting, so nothing is to be undone (an agent that did its work would reply "ok")
            self.connection.send(destination=reply_to, headers={**headers, "persistent": "true"},
                                 body=json.dumps({"status": "error", "error": "stopped before the work was done", "retryable": False}))
            print("stopped, replied that nothing was done", flush=True)
        elif cid in stopped:
            print("stopped, no reply sent", flush=True)
        else:
            self.connection.send(destination=reply_to, body=json.dumps({"status": "ok", "output": {"worked": True}}),
                                 headers={**headers, "persistent": "true"})
            print("replied", flush=True)
        self.connection.ack(frame.headers["ack"])
        stopped.pop(cid, None)   # a stop answer for this attempt is of no more use


# heartbeats: the broker drops a STOMP connection that sends nothing for 60 s (its connection TTL)
connection = stomp.Connection12([(HOST, PORT)], heartbeats=(10000, 10000), auto_content_length=False)
connection.set_listener("agent", Agent(connection))
connection.connect(wait=True)
connection.subscribe(destination=f"agent.{AGENT}", id="1", ack="client-individual",
                     headers={"subscription-type": "ANYCAST", "consumer-window-size": "0"})  # one request at a time
connection.subscribe(destination=STOPS, id="2", ack="auto", headers={"subscription-type": "ANYCAST"})
print("agent ready", flush=True)
while True:
    time.sleep(60)
