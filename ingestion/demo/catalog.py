"""The fixed facts of the demo organisation: teams, trackers, tools and names.

Volumes here are for scale 1; the generator multiplies them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Team:
    team_id: str
    name: str
    time_zone: str
    base_size: int  # people at the start of the history, scale 1
    city: str  # where Okta geolocates the team's sign-ins
    country: str
    product: bool  # product teams have a designer and live in Figma


TEAMS: tuple[Team, ...] = (
    Team("payments", "Payments", "Europe/Paris", 22, "Paris", "France", True),
    Team("platform", "Platform", "Europe/London", 20, "London", "United Kingdom", False),
    Team("mobile", "Mobile", "America/New_York", 20, "New York", "United States", True),
    Team("growth", "Growth", "America/Los_Angeles", 20, "San Francisco", "United States", True),
    Team("data", "Data", "Europe/Paris", 16, "Lyon", "France", False),
    Team("search", "Search", "Asia/Kolkata", 18, "Bengaluru", "India", True),
    Team("identity", "Identity", "UTC", 14, "Dublin", "Ireland", False),
    # Small on purpose: its survey waves fall under the anonymity threshold.
    Team("infra", "Infrastructure", "Europe/Berlin", 7, "Berlin", "Germany", False),
)
TEAM_BY_ID = {t.team_id: t for t in TEAMS}

STORY_TEAM = "payments"  # cycle time halves after adopting STORY_TOOL
STORY_TOOL = "copilot"
SMALL_TEAM = "infra"
MOVER_FROM, MOVER_TO = "platform", "identity"


@dataclass(frozen=True)
class JiraProject:
    key: str
    project_id: str
    name: str
    team_id: str | None  # None: no ownership row, attributed by assignee
    time_zone: str  # offset its timestamps are written in
    workflow: str  # see jira_reference.WORKFLOWS
    scrum: bool  # has a board with two-week sprints
    weight: float  # share of the issue volume
    team_managed: bool = False


JIRA_PROJECTS: tuple[JiraProject, ...] = (
    JiraProject(
        "PAY", "10000", "Payments", "payments", "Europe/Paris", "review_pay", True, 16.5, team_managed=True
    ),
    JiraProject("PAYOPS", "10001", "Payments Operations", "payments", "Europe/Paris", "simple", False, 5.5),
    JiraProject("PLAT", "10002", "Platform", "platform", "Europe/London", "review", True, 20),
    JiraProject("MOB", "10003", "Mobile App", "mobile", "America/New_York", "review", True, 20),
    JiraProject("GROW", "10004", "Growth", "growth", "America/Los_Angeles", "backlog", False, 20),
    JiraProject("DATA", "10005", "Data Engineering", "data", "Europe/Paris", "backlog", False, 16),
    JiraProject("SRCH", "10006", "Search", "search", "Asia/Kolkata", "review", True, 18),
    JiraProject("IAM", "10007", "Identity & Access", "identity", "UTC", "review", True, 14),
    JiraProject("INFRA", "10008", "Infrastructure", "infra", "Europe/Berlin", "simple", False, 7),
    # Shared by several teams and owned by none: attribution falls back to the
    # assignee's team at resolution.
    JiraProject("OPS", "10009", "Operations", None, "Europe/Paris", "ops", False, 9),
)
OPS_TEAMS = ("platform", "infra", "identity")
JIRA_ISSUES_AT_SCALE_1 = 2500


@dataclass(frozen=True)
class Repo:
    full_name: str
    repo_id: int
    team_id: str
    issues: int  # issues at scale 1 (pull requests come on top)


REPOS: tuple[Repo, ...] = (
    Repo("acme/payments-api", 512003411, "payments", 150),
    Repo("acme/mobile-app", 512003538, "mobile", 200),
    Repo("acme/search-service", 512004102, "search", 140),
    Repo("acme/infra-terraform", 512004377, "infra", 110),
)
PULL_REQUEST_SHARE = 0.35


@dataclass(frozen=True)
class Tool:
    tool_id: str
    name: str
    okta_app: str  # the Okta app label (AppInstance displayName)
    log_name: str  # how usage logs name it
    rollout_day: int  # days after the history start (snapped to a Monday)
    events: tuple[str, ...]
    events_per_session: float
    adoption: float  # chance that a person adopts it
    adoption_by_team: tuple[tuple[str, float], ...]
    delay_days: float  # mean days from rollout to a person's first use
    utc_log: bool = False  # logs written in UTC with `Z` rather than a local offset


TOOLS: tuple[Tool, ...] = (
    Tool(
        "notion",
        "Notion",
        "Notion",
        "notion-app",
        21,
        ("page_viewed", "page_viewed", "page_edited", "comment_added"),
        2.0,
        0.85,
        (),
        18,
    ),
    Tool(
        "figma",
        "Figma",
        "Figma",
        "figma-desktop",
        75,
        ("file_opened", "file_opened", "comment_added", "prototype_viewed"),
        2.3,
        0.25,
        (("payments", 0.6), ("mobile", 0.7), ("growth", 0.7), ("search", 0.6)),
        25,
    ),
    Tool(
        "datadog",
        "Datadog",
        "Datadog",
        "datadog-web",
        120,
        ("dashboard_viewed", "dashboard_viewed", "query_run", "monitor_muted"),
        1.8,
        0.35,
        (("platform", 0.9), ("infra", 0.95), ("search", 0.8), ("identity", 0.8)),
        28,
    ),
    Tool(
        "copilot",
        "GitHub Copilot",
        "GitHub Copilot",
        "copilot-vscode",
        182,
        ("suggestion_accepted", "suggestion_accepted", "chat_message"),
        3.2,
        0.55,
        (("payments", 0.97),),
        35,
        utc_log=True,
    ),
    # Rolled out late and barely used: the low-adoption story.
    Tool(
        "launchdarkly",
        "LaunchDarkly",
        "LaunchDarkly",
        "launchdarkly-web",
        245,
        ("flag_viewed", "flag_toggled"),
        1.5,
        0.06,
        (("growth", 0.3),),
        40,
    ),
)
TOOL_BY_ID = {t.tool_id: t for t in TOOLS}
LOW_ADOPTION_TOOL = "launchdarkly"
STORY_TEAM_ADOPTION_DELAY_DAYS = 6.0
USAGE_EVENTS_AT_SCALE_1 = 100_000

# Apps in Okta that are not in the tool catalog: noise the pipeline ignores.
OTHER_OKTA_APPS = ("Slack", "Google Workspace", "Zoom")

# People who show up in logs but are on no roster (contractors, service accounts).
UNKNOWN_EMAILS = ("it-helpdesk@example.com", "sam.taylor@contractors.example.net")

FIRST_NAMES = (
    "Alice",
    "Amara",
    "André",
    "Anna",
    "Arjun",
    "Ayşe",
    "Ben",
    "Björn",
    "Camille",
    "Carlos",
    "Chen",
    "Chloé",
    "Daniel",
    "Diego",
    "Elena",
    "Emma",
    "Fatima",
    "Felix",
    "Grace",
    "Hana",
    "Hugo",
    "Inès",
    "Isaac",
    "Jonas",
    "José",
    "Julia",
    "Kenji",
    "Lars",
    "Laura",
    "Leila",
    "Liam",
    "Lucas",
    "Maya",
    "Mei",
    "Mohammed",
    "Nadia",
    "Noah",
    "Olivia",
    "Omar",
    "Priya",
    "Rafael",
    "Renée",
    "Rohan",
    "Sara",
    "Sofia",
    "Tariq",
    "Thomas",
    "Valentina",
    "Wei",
    "Yuki",
    "Zoë",
    "Aditi",
    "Bruno",
    "Clara",
    "Dmitri",
    "Eva",
    "Farah",
    "Gabriel",
    "Ines",
    "Kofi",
)
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Dubois",
    "Smith",
    "Johnson",
    "Müller",
    "Schmidt",
    "García",
    "Rodríguez",
    "Rossi",
    "Patel",
    "Sharma",
    "Kumar",
    "Nguyen",
    "Kim",
    "Tanaka",
    "Sato",
    "Silva",
    "Santos",
    "O'Brien",
    "Murphy",
    "Kowalski",
    "Nowak",
    "Andersson",
    "Johansson",
    "Jensen",
    "Hansen",
    "Novak",
    "Horvat",
    "Popescu",
    "Ivanova",
    "Cohen",
    "Levi",
    "Haddad",
    "Mensah",
    "Okafor",
    "Adeyemi",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Fischer",
    "Weber",
    "Meyer",
    "Lefèvre",
    "Moreau",
    "Laurent",
    "Fontaine",
    "Nuñez",
    "Martin-Lopez",
    "Costa",
    "Ferreira",
    "Yilmaz",
    "Demir",
    "Ali",
    "Khan",
    "Iyer",
    "Reddy",
    "Brown",
    "Taylor",
)
