"""Every limit of the toolchain and the runtime, in one table (documented in docs/limits.md).

The compiler, the bundle loader, the receipt and customer readers and the simulator all import
their numbers from here, so a programme the compiler accepts is one the till can load, and a
receipt the simulator accepts is one the till can evaluate. Exceeding a limit is a coded error at
the edge where the input arrives, never a slow path or a crash further in.
"""

from __future__ import annotations

import datetime as dt

# -- numbers ------------------------------------------------------------------------------------
# Money and points in minor units, quantities in thousandths, counts: every integer a programme,
# a bundle, a receipt or a customer state may hold has |value| <= MAX_VALUE (10^15 minor units is
# ten trillion roubles; it fits in 64 bits, and the product of two such values fits in MAX_INTERMEDIATE).
MAX_VALUE = 10**15
# Every intermediate result of evaluation stays within |x| < 2^127; past that the campaign's
# arithmetic has overflowed (a hostile or broken bundle), and evaluation stops with a coded error.
MAX_INTERMEDIATE = 2**127 - 1
# Digits in any integer literal in any input (source, bundle JSON, receipt, state) before parsing
# it: Python's own guard is 4,300 and raises an uncoded error; we stop far earlier. In a programme
# it bounds every number, its integer and fraction digits together (`1.5` has two), in .loya and
# YAML alike (LOY112); 40 digits is far past MAX_VALUE at any scale, so no real value is refused.
MAX_INT_DIGITS = 40
# Decimal digits of a currency's minor unit (`currency RUB minor 2`) and of points (`points minor 0`):
# ISO 4217 currencies use 0 to 4 (the Chilean UF has 4); more would make 10^minor the scale of every
# amount and leave little of MAX_VALUE for the amounts themselves.
MAX_MINOR_DIGITS = 4

# -- time ---------------------------------------------------------------------------------------
# Every date and time a programme, a receipt or a state names lies within these years, and every
# duration is at most MAX_DURATION_DAYS, so date arithmetic never leaves Python's datetime range.
# In a programme: a date outside is LOY113, a longer duration (written or a product) LOY220.
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)
MAX_DURATION_DAYS = 36_525  # 100 years

# -- text and structure -------------------------------------------------------------------------
MAX_SOURCE_CHARS = 1_000_000  # one .loya or YAML file (read as at most 4 bytes of UTF-8 per character)
MAX_DEPTH = 64  # expression nesting in a programme
# Nesting of a whole programme's tree (a tiers action inside a tiers action...), so that walking
# it never nears Python's recursion limit (1,000).
MAX_TREE_DEPTH = 200
# Diagnostics one run of the compiler reports; then one LOY105 says how many more there were, so a
# file of garbage costs no more than 100 diagnostics to render.
MAX_ERRORS = 100
MAX_YAML_DEPTH = 32  # nesting of a YAML programme
MAX_JSON_DEPTH = 32  # nesting of any JSON document read: a receipt, a customer, a bundle payload
MAX_CAMPAIGNS = 10_000
MAX_TEXT_CHARS = 1_000  # one string value in a receipt or a customer (sku, category path, id, ...)

# -- receipts -----------------------------------------------------------------------------------
MAX_QTY = 10**9  # whole units per line; more is a typo or an attack, not a purchase
MAX_RECEIPT_LINES = 5_000
MAX_RECEIPT_BYTES = 4 << 20  # one receipt as JSON text
MAX_LINE_ATTRS = 64  # attrs on one line: a few retailer tags (uom, origin, ...), not a second receipt
MAX_CATEGORY_LEVELS = 16  # levels of one category path ("a/b/c" has 3): `category in [...]` tests each
#                           prefix, so a line costs levels x length; real trees are under 8 deep
MAX_PRESENTED = 100  # coupons plus certificates presented on one receipt
# The largest integer bytecode can read: a field of a receipt, a line or a customer, a state read, or
# an aggregate over the lines (a sum of at most MAX_RECEIPT_LINES values of at most MAX_VALUE). The
# verifier proves from it (and the constants) that no intermediate leaves MAX_INTERMEDIATE.
MAX_READ = MAX_VALUE * MAX_RECEIPT_LINES

# -- files a programme reads ----------------------------------------------------------------------
# One `from "PATH"` list or imported file (LOY110): the compiler reads at most one byte more, so a
# huge or endless file (a device, a growing log) costs neither time nor memory. A list file's rows
# are embedded in the bundle, which must stay under MAX_BUNDLE_BYTES.
MAX_LIST_FILE_BYTES = 16 << 20

# -- bundles ------------------------------------------------------------------------------------
MAX_BUNDLE_BYTES = 64 << 20
MAX_NESTING = 64  # nested IFs (and AND/OR in actions) in bytecode: the generated Python indents once per level
# The static cost bound of one evaluation (docs/bundle.md, "Static cost": fixed + per_line x lines, in
# units of about one simple operation): the engine refuses a receipt whose cost under its bundle exceeds
# it (LOY520, before any work; a host may set a lower max_cost), and the loader a bundle over it for a
# one-line receipt (LOY411). So every evaluation takes at most about MAX_STATIC_COST x the worst time per
# unit `bench/hostile.py` measures (about 105 ns, so 42 s). A realistic programme of 1,000 campaigns
# costs ~2 x 10^8 for a receipt of MAX_RECEIPT_LINES lines; one of 5,000 takes receipts of 1,938 lines.
MAX_STATIC_COST = 4 * 10**8

# -- files a programme reads, together ---------------------------------------------------------
# Every file one programme imports or reads a list from, together (LOY110): a programme importing
# thousands of files is refused once it has read this much, however small each one is. What it
# reads is compiled or embedded into one bundle, hence the bundle's own limit.
MAX_PROGRAMME_READ_BYTES = MAX_BUNDLE_BYTES

# -- customers ----------------------------------------------------------------------------------
MAX_CUSTOMER_BYTES = 4 << 20  # one customer state as JSON text
# Receipt and return ids a customer state remembers (docs/state.md, "Idempotency"), so that one outcome
# is never applied twice. The newest are kept: a heavy shopper makes 2-3 receipts a day, so 256 ids
# cover far more than a month (a return period; a host retries within minutes), and at ~60 bytes an id
# the record stays small. Older ids are forgotten; the processing server keys its own answers by id.
MAX_APPLIED_IDS = 256
