"""What demo findings look like: detections an analyst would recognise, and their evidence.

Each detection has a type (contract: 10 Threat .. 50 System Notification), the priorities it is
raised with (Risk and Operational are always P3), a category, a log source ("jurisdiction") and an
evidence profile: the keys its rows carry and how to make plausible values for them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from openmira.core.wire import format_timestamp

THREAT, SUSPECT, RISK, OPERATIONAL, SYSTEM = 10, 20, 30, 40, 50

CATEGORIES = {
    1: "Credential Access", 2: "Command and Control", 3: "Impact", 4: "Initial Access", 5: "Execution",
    6: "Persistence", 7: "Defense Evasion", 8: "Discovery", 9: "Exfiltration", 10: "Configuration",
    11: "Vulnerability", 12: "Health", 13: "Privilege Escalation", 14: "Policy",
}


@dataclass(frozen=True)
class Detection:
    name: str
    type: int
    priorities: tuple[int, ...]  # drawn uniformly: repeat a value to weight it
    category: int
    jurisdiction: str
    profile: str
    weight: int
    analysis: str
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def category_name(self) -> str:
        return CATEGORIES[self.category]


D = Detection
DETECTIONS: tuple[Detection, ...] = (
    # Threats: respond now.
    D("Possible Kerberoasting Activity", THREAT, (1, 1, 2, 2, 2), 1, "Windows", "windows", 3,
      "Many Kerberos service tickets with RC4 encryption were requested by one account in a short time.",
      {"event_id": 4769, "ticket_encryption_type": "0x17"}),
    D("Outbound connection to known C2 domain", THREAT, (1, 1, 1, 2), 2, "Firewall", "network", 3,
      "A host connected to a domain on a command-and-control threat feed."),
    D("Ransomware file extension activity detected", THREAT, (1,), 3, "Blumira Agent", "agent", 1,
      "A process renamed many files to an extension used by a known ransomware family.",
      {"process_name": "svchosts.exe"}),
    D("Mimikatz credential dumping tool detected", THREAT, (1, 1, 2), 1, "Blumira Agent", "agent", 1,
      "Command-line arguments typical of Mimikatz (sekurlsa::logonpasswords) were observed.",
      {"command_line": "mimi.exe privilege::debug sekurlsa::logonpasswords exit"}),
    D("Successful sign-in from known malicious IP", THREAT, (1, 2, 2), 4, "Microsoft 365", "m365", 2,
      "A user signed in successfully from an address on a threat-intelligence blocklist."),
    D("Microsoft 365: Inbox rule forwarding to external address", THREAT, (1, 2, 2, 2), 9, "Microsoft 365", "m365",
      2, "A new inbox rule forwards mail to an external address, a common step after account takeover.",
      {"operation": "New-InboxRule"}),
    D("LSASS memory access by unusual process", THREAT, (1, 2), 1, "Blumira Agent", "agent", 1,
      "A process that does not normally read LSASS memory opened it with read access."),
    # Suspects: look within a day.
    D("Password spray against Azure AD", SUSPECT, (2, 2, 3), 1, "Azure AD", "azure", 6,
      "Failed sign-ins against many accounts from few addresses, consistent with password spraying."),
    D("Microsoft 365: Impossible travel sign-in", SUSPECT, (2, 3, 3), 4, "Microsoft 365", "m365", 8,
      "Two sign-ins by the same user from locations too far apart for the time between them.",
      {"operation": "UserLoggedIn", "result_status": "Succeeded"}),
    D("Windows: Audit log cleared", SUSPECT, (2, 2, 3), 7, "Windows", "windows", 3,
      "The Security event log was cleared, which attackers do to hide their tracks.", {"event_id": 1102}),
    D("Possible brute force against RDP", SUSPECT, (2, 3, 3), 1, "Windows", "windows", 6,
      "Many failed network logons against one host from the same source.", {"event_id": 4625, "logon_type": 10}),
    D("New local administrator account created", SUSPECT, (2, 3), 13, "Windows", "windows", 4,
      "An account was added to the local Administrators group.", {"event_id": 4732}),
    D("PowerShell encoded command executed", SUSPECT, (2, 3, 3), 5, "Blumira Agent", "agent", 6,
      "PowerShell ran with -EncodedCommand, often used to hide what a script does.",
      {"process_name": "powershell.exe"}),
    D("Suspicious scheduled task created", SUSPECT, (3, 3, 4), 6, "Windows", "windows", 4,
      "A scheduled task runs a binary from a user-writable directory.", {"event_id": 4698}),
    D("Multiple failed MFA challenges", SUSPECT, (3, 3, 4), 1, "Azure AD", "azure", 6,
      "A user failed several MFA prompts in a row (possible MFA fatigue attack)."),
    D("SSH brute force from external address", SUSPECT, (3, 3, 4), 1, "Linux", "linux", 5,
      "Many failed SSH authentications from one external address."),
    D("Service installed with unusual path", SUSPECT, (2, 3), 6, "Windows", "windows", 3,
      "A new service runs from a temporary or user profile directory.", {"event_id": 7045}),
    D("Possible DNS tunneling", SUSPECT, (2, 3), 2, "Firewall", "network", 2,
      "Unusually long, high-entropy DNS queries to one domain.", {"dst_port": 53, "protocol": "udp"}),
    # Risks: always P3.
    D("Microsoft 365: Legacy authentication protocol in use", RISK, (3,), 10, "Microsoft 365", "m365", 7,
      "A sign-in used a legacy protocol (IMAP/POP/SMTP basic auth) that cannot enforce MFA.",
      {"operation": "UserLoggedIn"}),
    D("RDP exposed to the internet", RISK, (3,), 11, "Firewall", "network", 4,
      "Inbound connections from the internet reached TCP 3389 on an internal host.",
      {"dst_port": 3389, "protocol": "tcp"}),
    D("SMBv1 enabled on host", RISK, (3,), 11, "Blumira Agent", "vuln", 4,
      "SMBv1 is enabled; it is deprecated and was abused by WannaCry.", {"service": "smb"}),
    D("Account with password that never expires", RISK, (3,), 14, "Windows", "windows", 5,
      "An enabled account is set to never expire its password.", {"event_id": 4738}),
    D("Microsoft 365: MFA disabled for user", RISK, (3,), 10, "Azure AD", "azure", 4,
      "Multi-factor authentication was disabled for an account."),
    D("Outdated OpenSSL version on Linux host", RISK, (3,), 11, "Linux", "vuln", 3,
      "A package with known vulnerabilities is installed.", {"service": "openssl"}),
    D("Firewall rule allows any-any inbound", RISK, (3,), 10, "Firewall", "network", 2,
      "A firewall policy permits all inbound traffic to an internal network."),
    # Operational: always P3.
    D("Windows Defender real-time protection disabled", OPERATIONAL, (3,), 7, "Windows", "windows", 5,
      "Microsoft Defender real-time protection was turned off.", {"event_id": 5001}),
    D("Domain admin group membership changed", OPERATIONAL, (3,), 13, "Windows", "windows", 6,
      "A member was added to or removed from Domain Admins.", {"event_id": 4728}),
    D("Firewall configuration changed", OPERATIONAL, (3,), 10, "Firewall", "network", 6,
      "An administrator changed the firewall configuration."),
    D("Microsoft 365: Mailbox audit logging disabled", OPERATIONAL, (3,), 10, "Microsoft 365", "m365", 3,
      "Mailbox auditing was turned off for a mailbox.", {"operation": "Set-Mailbox"}),
    D("Agent not reporting", OPERATIONAL, (3,), 12, "Blumira Agent", "system", 6,
      "A Blumira Agent has not sent data for more than 24 hours."),
    D("TLS certificate expiring within 30 days", OPERATIONAL, (3,), 12, "Blumira Agent", "vuln", 3,
      "A certificate served by an internal host expires soon.", {"service": "https"}),
    D("Backup job failed", OPERATIONAL, (3,), 12, "Windows", "windows", 4,
      "The nightly backup job reported a failure.", {"event_id": 190}),
    # System notifications.
    D("Sensor offline", SYSTEM, (3, 4), 12, "Blumira", "system", 3, "A Blumira sensor stopped checking in."),
    D("Log source stopped sending data", SYSTEM, (3, 4, 4), 12, "Blumira", "system", 3,
      "No events were received from a configured log source for several hours."),
    D("Cloud connector authentication failure", SYSTEM, (3, 4), 12, "Blumira", "system", 2,
      "A cloud connector could not authenticate; its credentials may have expired."),
    D("Blumira Agent update available", SYSTEM, (4, 5, 5), 12, "Blumira", "system", 2,
      "A newer version of the Blumira Agent is available for some devices."),
)

# Resolution weights per type: (Valid, False Positive, No Action Needed, Risk Accepted).
RESOLUTION_WEIGHTS = {
    THREAT: (45, 35, 15, 5),
    SUSPECT: (25, 40, 30, 5),
    RISK: (20, 10, 30, 40),
    OPERATIONAL: (30, 5, 55, 10),
    SYSTEM: (15, 5, 75, 5),
}
RESOLUTION_IDS = (10, 20, 30, 40)

COUNTRIES = ("US", "US", "US", "US", "CA", "GB", "DE", "NL", "FR", "BR", "NG", "RU", "CN", "VN", "IN", "RO")
CITIES = {
    "US": ("Chicago", "Dallas", "Seattle", "Ashburn", "Denver"), "CA": ("Toronto", "Montreal"),
    "GB": ("London", "Manchester"), "DE": ("Frankfurt", "Berlin"), "NL": ("Amsterdam",), "FR": ("Paris",),
    "BR": ("Sao Paulo",), "NG": ("Lagos",), "RU": ("Moscow",), "CN": ("Beijing", "Shanghai"),
    "VN": ("Hanoi",), "IN": ("Mumbai",), "RO": ("Bucharest",),
}
C2_DOMAINS = ("update-cdn-sync.com", "msft-telemetry.net", "cloud-api-status.xyz", "secure-login-check.top")
APPS = ("Office 365 Exchange Online", "Microsoft Teams", "Office 365 SharePoint Online", "Azure Portal")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328)",
    "python-requests/2.31.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15",
)
PROCESSES = ("powershell.exe", "rundll32.exe", "cmd.exe", "wmic.exe", "certutil.exe", "regsvr32.exe")
CVES = ("CVE-2023-0286", "CVE-2022-3602", "CVE-2017-0144", "CVE-2024-3094", "CVE-2023-4863")


@dataclass
class OrgContext:
    """Names evidence refers to: the organization's people, hosts and networks."""

    domain: str
    user_names: list[str]
    hosts: list[str]
    subnet: str  # e.g. "10.24"


def _public_ip(rng: random.Random) -> str:
    return f"{rng.choice((45, 62, 77, 91, 103, 141, 185, 193, 203))}.{rng.randrange(256)}.{rng.randrange(256)}." \
           f"{rng.randrange(1, 255)}"


def _internal_ip(rng: random.Random, ctx: OrgContext) -> str:
    return f"{ctx.subnet}.{rng.randrange(1, 40)}.{rng.randrange(2, 254)}"


def _country(rng: random.Random) -> str:
    return rng.choice(COUNTRIES)


Maker = Callable[[random.Random, OrgContext, dict[str, Any]], Any]


def _city(rng: random.Random, _: OrgContext, row: dict[str, Any]) -> str:
    return rng.choice(CITIES[row.get("client_ip_geoip.countrycode", "US")])


PROFILES: dict[str, dict[str, Maker]] = {
    "m365": {
        "user_name": lambda r, c, _: r.choice(c.user_names),
        "client_ip": lambda r, c, _: _public_ip(r),
        "client_ip_geoip.countrycode": lambda r, c, _: _country(r),
        "client_ip_geoip.city": _city,
        "operation": lambda r, c, _: r.choice(("UserLoggedIn", "UserLoginFailed", "MailItemsAccessed")),
        "app_display_name": lambda r, c, _: r.choice(APPS),
        "user_agent": lambda r, c, _: r.choice(USER_AGENTS),
        "result_status": lambda r, c, _: r.choice(("Succeeded", "Succeeded", "Failed")),
    },
    "azure": {
        "user_name": lambda r, c, _: r.choice(c.user_names),
        "client_ip": lambda r, c, _: _public_ip(r),
        "client_ip_geoip.countrycode": lambda r, c, _: _country(r),
        "app_display_name": lambda r, c, _: r.choice(APPS),
        "failure_reason": lambda r, c, _: r.choice(
            ("Invalid username or password", "MFA denied; user declined the authentication", "Account is locked")
        ),
        "error_code": lambda r, c, _: r.choice((50126, 500121, 50053)),
    },
    "windows": {
        "device_name": lambda r, c, _: r.choice(c.hosts),
        "event_id": lambda r, c, _: r.choice((4624, 4625, 4672)),
        "user_name": lambda r, c, _: f"{c.domain}\\{r.choice(c.user_names).split('@')[0]}",
        "src_ip": lambda r, c, _: _internal_ip(r, c),
        "logon_type": lambda r, c, _: r.choice((2, 3, 10)),
        "channel": lambda r, c, _: "Security",
    },
    "agent": {
        "device_name": lambda r, c, _: r.choice(c.hosts),
        "user_name": lambda r, c, _: r.choice(c.user_names).split("@")[0],
        "process_name": lambda r, c, _: r.choice(PROCESSES),
        "parent_process": lambda r, c, _: r.choice(("explorer.exe", "winword.exe", "services.exe", "cmd.exe")),
        "command_line": lambda r, c, row: f"{row.get('process_name', 'powershell.exe')} -nop -w hidden -enc "
                                          f"{r.getrandbits(96):024x}",
        "process_hash": lambda r, c, _: f"{r.getrandbits(256):064x}",
    },
    "network": {
        "device_name": lambda r, c, _: r.choice(c.hosts),
        "src_ip": lambda r, c, _: _internal_ip(r, c),
        "src_port": lambda r, c, _: r.randrange(49152, 65535),
        "dst_ip": lambda r, c, _: _public_ip(r),
        "dst_port": lambda r, c, _: r.choice((443, 443, 80, 8443, 4444)),
        "dst_domain": lambda r, c, _: r.choice(C2_DOMAINS),
        "dst_ip_geoip.countrycode": lambda r, c, _: _country(r),
        "protocol": lambda r, c, _: "tcp",
        "bytes_out": lambda r, c, _: r.randrange(200, 5_000_000),
        "action": lambda r, c, _: r.choice(("allow", "allow", "deny")),
    },
    "linux": {
        "device_name": lambda r, c, _: r.choice(c.hosts),
        "src_ip": lambda r, c, _: _public_ip(r),
        "src_ip_geoip.countrycode": lambda r, c, _: _country(r),
        "user_name": lambda r, c, _: r.choice(("root", "admin", "ubuntu", "oracle", "test")),
        "program": lambda r, c, _: "sshd",
        "message": lambda r, c, row: f"Failed password for {row.get('user_name', 'root')} from "
                                     f"{row.get('src_ip', '0.0.0.0')} port {r.randrange(30000, 65000)} ssh2",
    },
    "vuln": {
        "device_name": lambda r, c, _: r.choice(c.hosts),
        "dst_ip": lambda r, c, _: _internal_ip(r, c),
        "service": lambda r, c, _: r.choice(("smb", "rdp", "https", "ssh")),
        "cve": lambda r, c, _: r.choice(CVES),
        "cvss": lambda r, c, _: round(r.uniform(4.0, 9.8), 1),
    },
    "system": {
        "sensor": lambda r, c, _: f"sensor-{r.randrange(1, 4):02d}",
        "device_name": lambda r, c, _: r.choice(c.hosts),
        "message": lambda r, c, _: r.choice(
            ("No events received for 6 hours", "Heartbeat missed", "Authentication to the connector failed")
        ),
    },
}


# Keys that name the finding's subject: every row of one finding shares them (a password spray keeps
# its source address and varies the user; most detections keep their user or host).
_SUBJECT = ("user_name", "device_name", "sensor")
STABLE_KEYS: dict[str, tuple[str, ...]] = {
    "azure": ("client_ip", "client_ip_geoip.countrycode"),
    "linux": ("device_name", "src_ip", "src_ip_geoip.countrycode"),
    "network": ("device_name", "src_ip", "dst_ip", "dst_domain", "dst_ip_geoip.countrycode"),
    "m365": ("user_name",),
}


def subject(rng: random.Random, detection: Detection, ctx: OrgContext) -> dict[str, Any]:
    """Just the subject keys of a finding (its user, host, source...): cheap, for every finding."""
    makers = PROFILES[detection.profile]
    row: dict[str, Any] = {}
    for key in STABLE_KEYS.get(detection.profile, _SUBJECT):
        if key in detection.fixed:
            row[key] = detection.fixed[key]
        elif key in makers:
            row[key] = makers[key](rng, ctx, row)
    return row


def evidence_rows(
    rng: random.Random, detection: Detection, ctx: OrgContext, count: int, start: datetime,
    first: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """``count`` rows with the same keys: a timestamp, the profile's fields and the detection's fixed values.

    With ``first`` (an earlier row of the same finding, or its ``subject``), the subject keys repeat its values.
    """
    makers = PROFILES[detection.profile]
    stable = STABLE_KEYS.get(detection.profile, _SUBJECT)
    rows = []
    moment = start.replace(microsecond=0)
    for _ in range(count):
        row: dict[str, Any] = {"timestamp": format_timestamp(moment)}
        for key, make in makers.items():
            if key in detection.fixed:
                row[key] = detection.fixed[key]
            elif first is not None and key in stable and key in first:
                row[key] = first[key]
            else:
                row[key] = make(rng, ctx, row)
        for key, value in detection.fixed.items():
            row.setdefault(key, value)
        rows.append(row)
        moment += timedelta(seconds=rng.randrange(1, 90))
    return rows
