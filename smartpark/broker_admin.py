"""Broker accounts and ACLs through Mosquitto's dynamic-security plugin, at run time.

Commands go as JSON to ``$CONTROL/dynamic-security/v1`` and answers come back on its
``/response`` topic, so thousands of gateways are provisioned in a few round trips instead of one
`mosquitto_ctrl` process each. Every gateway gets its own client; the role of its enterprise
allows publishing only the contract's topics below ``{root}/{park}/{enterprise}/`` (telemetry
and status), so a gateway cannot fill the broker with retained messages on topics of its own
invention; the ingester refuses and clears retained telemetry.

Every gateway and device account is bound to one MQTT client id, its username (dynamic
security refuses the account under any other id). A gateway therefore cannot connect as a
platform service and take over its persistent session, whatever that service's client id is.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from smartpark.mqtt import BrokerTarget, admin_url, connect, make_client
from smartpark.settings import Settings

CONTROL = "$CONTROL/dynamic-security/v1"
PLATFORM_ROLE = "smartpark-platform"
ALREADY = ("already exists",)


class BrokerAdminError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    password: str
    park: str
    enterprise: str

    @property
    def client_id(self) -> str:
        return gateway_client_id(self.username)


def gateway_client_id(username: str) -> str:
    """The only client id a gateway or device account may connect with."""
    return username


def fingerprint(username: str, password: str) -> str:
    """A slow salted hash of a password, to tell whether an account's password changed."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), f"smartpark:{username}".encode(), 20_000)
    return "fp1:" + digest.hex()[:32]


def enterprise_role(park: str, enterprise: str) -> str:
    return f"enterprise:{park}/{enterprise}"


class BrokerAdmin:
    def __init__(self, url: str, *, root: str = "smartpark/v1", timeout: float = 15.0) -> None:
        self._root = root
        self._timeout = timeout
        self._answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self._client = make_client(
            f"smartpark-admin-{secrets.token_hex(12)}",  # unguessable: nobody can take its place
            target=BrokerTarget.parse(url),
            clean_start=True,
            session_expiry=0,
        )
        self._token = uuid.uuid4().hex[:12]
        self._seq = itertools.count()
        self._subscribed = threading.Event()
        self._client.on_message = lambda c, u, msg: self._answers.put(json.loads(msg.payload))
        # Subscribe on every (re)connect: the session is not persistent.
        self._client.on_connect = lambda c, u, f, r, p: c.subscribe(f"{CONTROL}/response", qos=1)
        self._client.on_subscribe = lambda *a: self._subscribed.set()
        connect(self._client, timeout=timeout)
        if not self._subscribed.wait(timeout):
            raise BrokerAdminError("could not subscribe to the dynamic-security responses")

    @classmethod
    def of(cls, settings: Settings) -> BrokerAdmin:
        """Through the admin account of the settings (SMARTPARK_MQTT_ADMIN_URL)."""
        return cls(admin_url(settings), root=settings.topic_root)

    def __enter__(self) -> BrokerAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def execute(self, commands: list[dict[str, Any]], *, tolerate: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Run commands in order; raise on an error unless its text contains a tolerated phrase.

        The plugin sends its responses to every admin client, so each command carries our own
        correlation data and answers meant for others are ignored.
        """
        tolerated = tuple(tolerate)
        results: list[dict[str, Any]] = []
        for start in range(0, len(commands), 200):
            # After a broker restart the client reconnects on its own: wait for it.
            deadline = time.monotonic() + self._timeout
            while not self._client.is_connected() and time.monotonic() < deadline:
                time.sleep(0.05)
            chunk = [
                dict(cmd, correlationData=f"{self._token}-{next(self._seq)}") for cmd in commands[start : start + 200]
            ]
            info = self._client.publish(CONTROL, json.dumps({"commands": chunk}), qos=1)
            info.wait_for_publish(self._timeout)
            wanted = {cmd["correlationData"] for cmd in chunk}
            got: dict[str, dict[str, Any]] = {}
            deadline = time.monotonic() + self._timeout
            while wanted - got.keys():
                try:
                    answer = self._answers.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise BrokerAdminError("no answer from the dynamic-security plugin") from None
                for res in answer.get("responses", []):
                    if res.get("correlationData") in wanted:
                        got[res["correlationData"]] = res
            for cmd in chunk:
                res = got[cmd["correlationData"]]
                err = res.get("error")
                if err and not any(t in err for t in tolerated):
                    who = cmd.get("username") or cmd.get("rolename")
                    raise BrokerAdminError(f"{cmd['command']} {who!r}: {err}")
                results.append(res)
        return results

    def ensure_platform_account(self, username: str, password: str) -> None:
        """The account of the platform's own services: read all telemetry, publish alerts."""
        root = self._root
        acls = [
            {"acltype": "subscribePattern", "topic": f"{root}/#", "allow": True},
            {"acltype": "subscribePattern", "topic": "$share/+/" + f"{root}/#", "allow": True},
            {"acltype": "publishClientReceive", "topic": f"{root}/#", "allow": True},
            {"acltype": "publishClientSend", "topic": f"{root}/#", "allow": True},
        ]
        self.execute([{"command": "createRole", "rolename": PLATFORM_ROLE, "acls": acls}], tolerate=ALREADY)
        self._ensure_clients([(username, password, PLATFORM_ROLE, None)])

    def ensure_gateways(self, accounts: Iterable[Account]) -> int:
        """Create or update gateway/device accounts; idempotent. Returns how many were given."""
        accounts = list(accounts)
        roles = {
            enterprise_role(p, e): self.enterprise_acls(p, e)
            for p, e in sorted({(a.park, a.enterprise) for a in accounts})
        }
        created = self.execute(
            [{"command": "createRole", "rolename": name, "acls": acls} for name, acls in roles.items()],
            tolerate=ALREADY,
        )
        # roles made before the ACLs were narrowed to the contract's topics get them now
        existing = [name for name, res in zip(roles, created, strict=True) if res.get("error")]
        current = self.execute([{"command": "getRole", "rolename": name} for name in existing])
        stale = [
            name
            for name, res in zip(existing, current, strict=True)
            if _acl_set(res.get("data", {}).get("role", {}).get("acls", [])) != _acl_set(roles[name])
        ]
        self.execute([{"command": "modifyRole", "rolename": name, "acls": roles[name]} for name in stale])
        self._ensure_clients(
            [(a.username, a.password, enterprise_role(a.park, a.enterprise), a.client_id) for a in accounts]
        )
        return len(accounts)

    def enterprise_acls(self, park: str, enterprise: str) -> list[dict[str, Any]]:
        """What an enterprise's gateways may publish: its devices' and gateways' telemetry and
        its devices' status, nothing else (default deny)."""
        base = f"{self._root}/{park}/{enterprise}"
        return [
            {"acltype": "publishClientSend", "topic": topic, "allow": True}
            for topic in (f"{base}/+/telemetry", f"{base}/+/status", f"{base}/gateway/+/telemetry")
        ]

    def _ensure_clients(self, clients: list[tuple[str, str, str, str | None]]) -> None:
        """Create what is missing; change an existing account only when its password, role or
        client id did.

        Changing an account disconnects its sessions, so reloading the same model must not touch
        it: each account carries a salted fingerprint of its password to compare with. A client
        id of None leaves the account unbound (the platform's services share one account). An
        existing account with another role is someone else's (the platform's, another
        enterprise's gateway): it is refused, never taken over by resetting its password.
        """
        created = self.execute([_client_command("createClient", *c) for c in clients], tolerate=ALREADY)
        existing = [c for c, res in zip(clients, created, strict=True) if res.get("error")]
        current = self.execute([{"command": "getClient", "username": c[0]} for c in existing])
        stale = []
        for (u, pw, r, cid), res in zip(existing, current, strict=True):
            client = res.get("data", {}).get("client", {})
            roles = {role.get("rolename") for role in client.get("roles", [])}
            if roles and roles != {r}:
                raise BrokerAdminError(
                    f"broker user {u!r} exists with role(s) {sorted(roles)}, not {r!r}: left as it is"
                )
            if client.get("textdescription") != fingerprint(u, pw) or roles != {r} or client.get("clientid") != cid:
                stale.append((u, pw, r, cid))
        self.execute([_client_command("modifyClient", *c) for c in stale])

    def client_ids(self, usernames: Iterable[str]) -> dict[str, str | None]:
        """The client id each account is bound to (None: unbound)."""
        answers = self.execute([{"command": "getClient", "username": u} for u in usernames])
        return {
            res["data"]["client"]["username"]: res["data"]["client"].get("clientid") for res in answers if "data" in res
        }

    def delete_client(self, username: str) -> None:
        self.execute([{"command": "deleteClient", "username": username}], tolerate=("not found",))

    def list_clients(self) -> list[str]:
        res = self.execute([{"command": "listClients", "verbose": False, "count": -1, "offset": 0}])
        clients: list[str] = res[0].get("data", {}).get("clients", [])
        return clients


def _client_command(command: str, username: str, password: str, role: str, client_id: str | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "command": command,
        "username": username,
        "password": password,
        "textdescription": fingerprint(username, password),
        "roles": [{"rolename": role}],
    }
    if client_id is not None:
        fields["clientid"] = client_id
    elif command == "modifyClient":
        fields["clientid"] = ""  # clears a binding
    return fields


def _acl_set(acls: list[dict[str, Any]]) -> set[tuple[str, str, bool]]:
    return {(a.get("acltype", ""), a.get("topic", ""), bool(a.get("allow"))) for a in acls}
