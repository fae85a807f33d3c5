"""Names and words for demo data: organizations, people, hosts, comment threads, resolution notes."""

from __future__ import annotations

ORG_NAMES = (
    "Northwind Traders", "Contoso Health", "Fabrikam Manufacturing", "Tailspin Toys", "Wide World Importers",
    "Adventure Works Cycles", "Woodgrove Bank", "Litware Inc.", "Proseware", "Fourth Coffee", "Alpine Ski House",
    "Coho Winery", "Lamna Healthcare", "Margie's Travel", "Trey Research", "Relecloud", "Humongous Insurance",
    "Blue Yonder Airlines", "Graphic Design Institute", "Consolidated Messenger", "Southridge Video",
    "City Power & Light", "VanArsdel Ltd.", "Wingtip Toys", "A. Datum Corporation", "Bellows College",
    "First Up Consultants", "Best For You Organics", "Lucerne Publishing", "Tasmanian Traders",
)

FIRST_NAMES = (
    "James", "Maria", "Robert", "Aisha", "Michael", "Linda", "David", "Mei", "William", "Fatima", "Carlos", "Emma",
    "Joseph", "Olivia", "Daniel", "Sofia", "Thomas", "Hannah", "Kevin", "Grace", "Jamal", "Laura", "Hiroshi",
    "Nina", "Omar", "Rachel", "Andre", "Chloe", "Victor", "Zoe", "Patrick", "Ingrid", "Samuel", "Priya", "Lucas",
    "Elena", "Noah", "Amara", "Ethan", "Yuki",
)
LAST_NAMES = (
    "Smith", "Garcia", "Johnson", "Khan", "Brown", "Martinez", "Lee", "Chen", "Wilson", "Okafor", "Anderson",
    "Lopez", "Taylor", "Nguyen", "Thomas", "Hernandez", "Moore", "Patel", "Jackson", "Kim", "White", "Rossi",
    "Harris", "Tanaka", "Clark", "Schmidt", "Lewis", "Novak", "Walker", "Silva", "Young", "Dubois", "King",
    "Ivanova", "Wright", "Murphy", "Scott", "Mensah", "Green", "Larsen",
)

WINDOWS_ROLES = ("WS", "WS", "WS", "LT", "LT", "SRV")
DEPARTMENTS = ("FIN", "HR", "ENG", "OPS", "MKT", "SALES", "IT", "LEGAL")
SERVER_ROLES = ("SQL", "FS", "APP", "PRINT", "RDS", "EXCH", "WEB")
LINUX_NAMES = ("web-prod", "api-prod", "db", "k8s-node", "jenkins", "bastion", "log-collector", "redis", "nfs")
WINDOWS_VERSIONS = ("Windows 11 Pro 23H2", "Windows 11 Enterprise 22H2", "Windows 10 Pro 22H2")
WINDOWS_SERVER_VERSIONS = ("Windows Server 2022 Standard", "Windows Server 2019 Datacenter")
LINUX_VERSIONS = ("Ubuntu 22.04 LTS", "Ubuntu 24.04 LTS", "Red Hat Enterprise Linux 9.3", "Debian 12", "Rocky Linux 9")
MACOS_VERSIONS = ("macOS 14 Sonoma", "macOS 15 Sequoia", "macOS 13 Ventura")

KEY_DESCRIPTIONS = {
    "windows": ("Windows workstations", "Windows servers", "Domain controllers", "Remote laptops"),
    "linux": ("Linux servers", "Production Linux", "Kubernetes nodes"),
    "macos": ("Mac fleet", "Design team Macs"),
}

# Comment threads: posted in order; {user}, {host}, {ip}, {name} are filled in.
OPENING_COMMENTS = (
    "<p>Looking into this now.</p>",
    "<p>Picked this up. Checking the sign-in logs for <strong>{user}</strong>.</p>",
    "<p>Pulled the process tree from <code>{host}</code>; attaching the details below.</p>",
    "<p>First pass: the source address <code>{ip}</code> is not one of ours.</p>",
    "<p>Is anyone aware of a change on <code>{host}</code> today? Nothing in the change calendar.</p>",
)
FOLLOW_UP_COMMENTS = (
    "<p>Confirmed with {user}: they were travelling and signed in from the hotel Wi-Fi.</p>",
    "<p>Isolated <code>{host}</code> while we investigate.</p>",
    "<p>Reset the password and revoked all sessions for <strong>{user}</strong>.</p>",
    "<p>This matches the vulnerability scanner's schedule; see ticket <a href=\"https://tickets.example/"
    "INC-{ticket}\">INC-{ticket}</a>.</p>",
    "<p>Blocked <code>{ip}</code> at the firewall.</p>",
    "<ul><li>Checked EDR: no further activity</li><li>No other hosts contacted the address</li></ul>",
    "<p>IT ran this script as part of the patch rollout. Expected behaviour.</p>",
    "<p>Escalating to the manager on call.</p>",
)
CLOSING_COMMENTS = (
    "<p>Closing this out; details are in the resolution notes.</p>",
    "<p>Thanks all. Resolved.</p>",
    "<p>Added a tuning request so this does not fire for the backup service account.</p>",
)

RESOLUTION_NOTES = {
    10: (
        "Confirmed malicious. Host isolated, credentials reset, and IOCs blocked.",
        "Valid finding. The account was compromised via phishing; sessions revoked and MFA re-enrolled.",
        "Confirmed. Removed the persistence mechanism and re-imaged {host}.",
        "Valid: the change was not authorised. Reverted and opened INC-{ticket}.",
    ),
    20: (
        "False positive: the activity came from our vulnerability scanner.",
        "False positive. {user} was travelling; sign-in confirmed with the user.",
        "Benign admin script run by IT during patching.",
        "False positive caused by the backup software's service account.",
    ),
    30: (
        "Reviewed; expected behaviour, no action needed.",
        "Known maintenance window. No action needed.",
        "Sensor recovered on its own after the network outage.",
        "Informational only; nothing to do.",
    ),
    40: (
        "Risk accepted by management until the legacy application is retired (Q3).",
        "Accepted: the vendor requires this configuration. Compensating controls are in place.",
        "Risk accepted for {host}; it is on an isolated VLAN.",
    ),
}
