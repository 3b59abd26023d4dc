"""The one registry of diagnostic and error codes.

Every code the toolchain or the runtime can report is listed here with a one-line title, and has a
page ``docs/codes/LOYnnn.md`` with an example and a fix (``tests/test_codes.py`` checks both ways).
Ranges: LOY1xx syntax, files and source limits; LOY2xx names, types and checks; LOY3xx lints
(warnings); LOY4xx bundles, signatures and I/O; LOY5xx receipts, customers, state and evaluation;
LOY6xx simulation inputs and runs; LOY7xx command-line usage. LOY999 is a bug in loyadsl, nothing else.
"""

from __future__ import annotations

CODES: dict[str, str] = {
    # LOY1xx: syntax, files, source limits
    "LOY100": "unexpected character",
    "LOY101": "unexpected token / syntax error",
    "LOY102": "unexpected end of file",
    "LOY103": "bad literal (date, time, escape, number)",
    "LOY104": "reserved word used as a name",
    "LOY105": "a parser limit exceeded",
    "LOY106": "YAML structure error",
    "LOY107": "import not found or unreadable",
    # LOY108-LOY119: file containment and source limits (reserved for hardening)
    "LOY108": "file outside the programme's roots",
    "LOY109": "file is not a regular file",
    "LOY110": "file too large",
    "LOY111": "programme text without a root reads no files",
    "LOY112": "number with too many digits",
    "LOY113": "date outside the supported range",
    "LOY114": "source is not UTF-8 text",
    # LOY120-LOY129: formatting (reserved for hardening)
    "LOY120": "comment `loya fmt` cannot keep in place",
    "LOY121": "formatted text not faithful to the source (formatter bug; nothing written)",
    "LOY122": "YAML comments would be lost",
    "LOY123": "comments would be lost converting to YAML",
    # LOY124-LOY129: loya fmt (reserved for issue 16)
    # LOY2xx: names, types, checks
    "LOY201": "unknown name",
    "LOY202": "operator not defined for these types",
    "LOY203": "comparison of different types",
    "LOY204": "condition is not a boolean",
    "LOY205": "duplicate declaration",
    "LOY206": "wrong argument / parameter",
    "LOY207": "value out of range or not allowed",
    "LOY208": "currency differs from the programme's",
    "LOY209": "bad list (empty, CSV unreadable, unknown column)",
    "LOY210": "missing programme header / setting",
    "LOY211": "group does not state priority, stacking and basis",
    "LOY212": "tiers not in descending order",
    "LOY213": "a clause that may appear once appears twice",
    "LOY214": "campaign without a group or without actions",
    "LOY215": "line field used outside `where`",
    "LOY216": "a state declaration that may appear once appears twice",
    "LOY217": "tier levels not in ascending order of what they need",
    "LOY218": "tier levels declare different benefits",
    "LOY219": "campaign accrues into two accounts",
    # LOY220-LOY229: effect and value checks (reserved for hardening)
    "LOY220": "value beyond the limits",
    "LOY221": "effect amount negative or zero",
    # LOY230-LOY239: experiments (reserved for issue 12)
    "LOY230": "experiment arm weights do not sum to 100%",
    "LOY231": "experiment has two arms of one name",
    "LOY232": "unknown experiment or arm",
    "LOY233": "campaign joins arms of two experiments, or an arm outside its group's",
    "LOY234": "experiment arm weight is 0%, above 100% or finer than 0.01%",
    "LOY235": "campaign joins an experiment's holdout",
    "LOY236": "experiment with fewer than two arms",
    "LOY237": "no campaign joins the experiment",
    # LOY238-LOY239: programme assertions (issue 12; docs/collisions.md, "Assertions")
    "LOY238": "assertion with an unknown subject or a limit of the wrong unit",
    "LOY239": "assertion broken: a receipt exceeds its limit (witness)",
    # LOY265-LOY269: unit-level discounts and redemption in steps (docs/units.md)
    "LOY265": "unit position outside its group",
    "LOY266": "unit group size less than 1",
    "LOY267": "rounding declared for money off a unit",
    "LOY268": "redemption step less than one point",
    # LOY270-LOY274: application order and exclusivity (docs/order.md)
    "LOY270": "exclusive campaign in a group that stacks everything",
    "LOY271": "campaign priority in a group with declared order",
    "LOY272": "line field `payable` or `discounted` in a state declaration's selection",
    # LOY250-LOY264: triggers, trigger chains and message templates (issue 15; docs/triggers.md)
    "LOY250": "trigger message names an unknown channel",
    "LOY251": "unknown variable in a message template",
    "LOY252": "construct not allowed in a message template",
    "LOY253": "message template syntax error",
    "LOY254": "trigger chain step that can never run",
    "LOY255": "triggers that fire each other forever",
    "LOY256": "trigger setting out of range",
    "LOY257": "a coupon exit in a chain that issues no coupon",
    "LOY258": "a trigger exits on the event that starts it",
    "LOY259": "a trigger exit given twice or too many exits",
    "LOY260": "trigger exits that can never end the chain",
    # LOY275-LOY279: line kinds and tax (docs/commerce.md)
    "LOY275": "tax rate over 100%",
    "LOY276": "unknown tax mode, tax basis or line kind in the header",
    "LOY277": "a selection of an unknown line kind, or of lines no campaign sees",
    # LOY3xx: lints (warnings)
    "LOY301": "campaign can never apply",
    "LOY302": "unused list or template",
    "LOY303": "programme too costly for the longest receipts",
    # LOY304-LOY309: lints over checked campaigns, one rule per module (loyadsl/check/lints/)
    "LOY304": "a selection wants values from one list and excludes them by another",
    # LOY310-LOY329: collision analysis (reserved for issue 12)
    "LOY310": "campaign always shadowed by a higher-priority one of its group",
    "LOY311": "campaign can never fire: its conditions cannot hold together",
    "LOY312": "assertion not proved: its bound is over the limit and no receipt tried breaks it",
    "LOY313": "stacked campaigns can take a whole line; which is cut depends on their order",
    # LOY4xx: bundles, signatures, I/O
    "LOY401": "bundle unreadable / not a bundle",
    "LOY402": "bundle integrity digest mismatch",
    "LOY403": "bundle format version not supported",
    "LOY404": "bundle structure invalid",
    "LOY405": "bytecode verification failed",
    "LOY406": "bundle signature invalid or missing",
    "LOY407": "I/O error",
    # LOY408-LOY419: bundle limits and signatures (reserved for hardening)
    "LOY408": "an integer in the bundle is out of range",
    "LOY409": "bundle too large or nested too deep",
    "LOY410": "bytecode arithmetic may leave the evaluation range",
    "LOY411": "bundle static cost over the limit",
    # LOY5xx: receipts, customers, state, evaluation
    "LOY500": "runtime failure",
    "LOY501": "malformed receipt",
    "LOY502": "malformed customer",
    "LOY503": "change or return does not fit the customer state",
    # LOY504-LOY509: receipt validation (reserved for hardening)
    "LOY504": "receipt exceeds a limit",
    "LOY505": "line amount disagrees with unit price × quantity",
    "LOY506": "a return is not a sale",
    "LOY507": "customer record exceeds a limit",
    # LOY510-LOY519: returns, refunds, idempotency (reserved for hardening)
    "LOY510": "receipt or return applied to the customer already",
    "LOY511": "change would take a state value past MAX_VALUE",
    "LOY512": "change would store a text longer than MAX_TEXT_CHARS",
    # LOY520-LOY529: evaluation limits (reserved for hardening)
    "LOY520": "receipt costs more than the engine's evaluation limit (max_cost)",
    # LOY555-LOY559: line kinds and tax on receipts (docs/commerce.md)
    "LOY555": "receipt line tax rate is not a percentage from 0 to 100",
    "LOY556": "unknown line kind, or a negative amount on a line that may not be negative",
    "LOY557": "receipt tax is not \"included\" or \"excluded\"",
    # LOY6xx: simulation inputs and runs
    # LOY600-LOY619: simulation (reserved for hardening)
    "LOY600": "a history file cannot be read (or the quarantine cannot be written)",
    "LOY601": "column mapping cannot be used",
    "LOY602": "assertion cannot be read",
    "LOY603": "record unreadable (not JSON, not text, not an object, a broken row, too long)",
    "LOY604": "value the column mapping cannot convert",
    "LOY605": "duplicate receipt id",
    "LOY606": "receipt in another currency than the programme's",
    "LOY607": "return of an unknown receipt",
    "LOY608": "customer states file cannot be used",
    "LOY609": "simulation backend cannot run",
    "LOY610": "programmes cannot be compared",
    "LOY611": "a worker process died",
    "LOY612": "simulation interrupted",
    "LOY613": "return of a quarantined receipt (skipped)",
    "LOY614": "a simulation assertion failed",
    # LOY615-LOY619: loya diff guards (reserved for issue 16)
    "LOY615": "a delta guard of `loya diff` failed",
    "LOY616": "a delta guard cannot be used",
    # LOY620-LOY629: A/B inputs and reports (reserved for issue 12)
    "LOY620": "A/B outcome table cannot be used",
    "LOY622": "simulation report without the experiment `loya ab report` needs",
    # LOY630-LOY639: personal offers inputs: history, model, strategy (reserved for issue 14)
    "LOY630": "history too short or too thin to fit the customer models",
    "LOY631": "customers with one purchase: no repeat-based scores (warning)",
    "LOY632": "offers model file cannot be read",
    "LOY633": "offer strategy cannot be used",
    "LOY634": "strategy names a category the model has never seen",
    "LOY635": "strategy or programme reads a score the model did not fit",
    "LOY636": "the strategy's budget cannot pay for the offers",
    "LOY637": "customer not in the offers model",
    "LOY638": "backtest cannot be measured",
    "LOY639": "a model score read where it cannot be: inside `where`, outside a condition, or without a category",
    # LOY640-LOY649: trigger chains on the processing server (issue 15, loyadsl/server/chains.py)
    "LOY640": "a scheduled-actions or tick time cannot be read",
    "LOY641": "scheduled action ids cannot be read",
    # LOY7xx: command-line usage
    # LOY700-LOY709: command-line usage (reserved for hardening)
    "LOY700": "a command-line value cannot be used",
    # LOY710-LOY719: collisions and find-sku usage (reserved for issue 12)
    "LOY710": "--pairs names no pair of the programme's campaigns",
    "LOY711": "the programme to analyse does not compile",
    "LOY712": "the `analysis` extra (z3-solver) is not installed",
    # LOY720-LOY729: `loya ab` usage (reserved for issue 12)
    "LOY720": "an `ab` option value cannot be used",
    "LOY721": "the `ab` extra is not installed",
    # LOY730-LOY739: command-line usage (reserved for issue 16)
    "LOY730": "the command needs an extra that is not installed",
    # LOY740-LOY749: `loya offers` usage (reserved for issue 14)
    "LOY740": "an `offers` option value cannot be used",
    "LOY741": "the `offers` extra is not installed",
    "LOY742": "offers model older than its max_age",
    "LOY743": "offers model fitted on or after the day it is used for",
    "LOY744": "customer states hold scores of a newer model",
    "LOY745": "history has purchases after the model's date (warning)",
    "LOY746": "too little history to rank next categories (warning)",
    # LOY750-LOY759: `loya test` and `loya doc` usage and test files (reserved for issue 15)
    "LOY750": "a test file cannot be read or has the wrong shape",
    "LOY751": "the programme under test does not compile",
    "LOY752": "a mechanic test expectation is not met",
    "LOY753": "a mechanic test step cannot run",
    "LOY754": "nothing to test or document at a path",
    "LOY755": "a template file to document does not parse",
    # LOY760-LOY769: the language server and the docs (issue 16)
    "LOY760": "the language server could not check a file",
    # LOY8xx: processing server and database (issue 13)
    # LOY800-LOY849: the processing server (reserved for issue 13)
    "LOY800": "request body is not JSON the server can read",
    "LOY801": "request does not match the endpoint's shape",
    "LOY802": "request body too large",
    "LOY803": "missing or unknown API key",
    "LOY804": "the API key may not do this",
    "LOY805": "unknown customer",
    "LOY806": "id used already with another body",
    "LOY807": "the runtime refuses the request's receipt, return or customer",
    "LOY808": "unknown receipt",
    "LOY809": "receipt no longer gets what calculate said",
    "LOY810": "receipt cancelled or confirmed already",
    "LOY811": "bundle upload refused",
    "LOY812": "database cannot be used",
    "LOY813": "database unavailable",
    "LOY814": "customer exists already",
    "LOY815": "presented coupon or certificate rejected",
    "LOY816": "no such endpoint",
    "LOY817": "the `serve` extra is not installed",
    "LOY818": "customers file cannot be read",
    "LOY819": "internal server error",
    "LOY999": "internal error: a bug in loyadsl",
    # LOY280-LOY289 (checker) and LOY560-LOY569 (runtime): rewards currency, gifts, raffles (docs/rewards.md)
    "LOY280": "reward costs more points than any account can hold",
    "LOY281": "reward has no account to be paid from",
    "LOY282": "gift product with no SKU",
    "LOY560": "receipt chooses an unknown reward, or one reward twice",
    "LOY561": "reward out of stock",
    "LOY562": "reward costs more points than the customer has",
    "LOY563": "reward chosen but its campaign did not apply",
    "LOY564": "stock change refused: the reward ran out before it was booked",
    "LOY565": "raffle draw input cannot be used",
    # LOY240-LOY249 and LOY530-LOY534: profile fields, purchase history and segments (docs/segments.md)
    "LOY240": "profile field not declared",
    "LOY241": "profile or lifecycle declaration is malformed",
    "LOY242": "score bins are empty, overlap or are out of order",
    "LOY243": "value is none of the profile field's options",
    "LOY244": "history or profile function used wrongly",
    "LOY245": "unknown segment, score or lifecycle stage, or lifecycle thresholds out of order",
    "LOY530": "customer profile value does not fit its declared type",
    # LOY290-LOY299, LOY570-LOY579: programme-wide usage limits, anti-fraud limits, staff and partners
    # (issue 17, features 4 and 9; docs/limits-fraud.md)
    "LOY290": "usage limit below one",
    "LOY291": "usage limit scope unknown or repeated",
    "LOY292": "anti-fraud limit below one, with an unknown period, or repeated",
    "LOY293": "staff rule or partner invalid or repeated",
    "LOY570": "usage limit reached between calculate and apply",
    # LOY124-LOY129, LOY761-LOY764: documents checked against their contract's schema (issue 16, item 2;
    # `loya schema NAME --check FILE`, docs/schemas/)
    "LOY124": "YAML programme does not match its schema",
    "LOY125": "JSON document does not match its schema",
}


def title(code: str) -> str:
    """The registered title of ``code`` (KeyError for an unregistered one: a bug the tests catch)."""
    return CODES[code]
