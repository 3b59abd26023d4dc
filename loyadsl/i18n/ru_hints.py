"""Russian templates of hints and notes (any code), beyond the most common ones in ``ru_messages``:
rows of (English as the checker writes it, Russian), with the same ``{name}`` parameters. The
programme's own text inside backticks stays as written: it is what the author types."""

from __future__ import annotations

HINT_ROWS: tuple[tuple[str, str], ...] = (
    # costs, sources, files
    ("`loya inspect` lists each campaign's cost: split the programme, or shorten the costliest",
     "`loya inspect` покажет стоимость каждой кампании: разделите программу или упростите самую дорогую"),
    ("fine for most shops; `loya inspect` lists each campaign's cost if more is needed",
     "для большинства магазинов этого хватает; `loya inspect` покажет стоимость каждой кампании, если нужно больше"),
    ("pass text that is valid Unicode", "передайте текст в корректном Unicode"),
    ("see docs/schemas/{name}.schema.json", "см. docs/schemas/{name}.schema.json"),
    ("see docs/schemas/programme.schema.json (docs/language.md, \"The YAML twin\")",
     "см. docs/schemas/programme.schema.json (docs/language.md, раздел \"The YAML twin\")"),
    ("`loya check FILE` shows whether the checker fails too; please report it with the file",
     "`loya check FILE` покажет, падает ли и проверка; сообщите об ошибке, приложив файл"),
    ("split the expression, or name a part of it with a list or a template parameter",
     "разбейте выражение или вынесите его часть в список или параметр шаблона"),
    ("split it, or name a part of it with a list or a template parameter",
     "разбейте его или вынесите часть в список или параметр шаблона"),
    # loya fmt, convert
    ("put the comment on its own line before that line, or at the end of its last line",
     "поставьте комментарий отдельной строкой перед этой строкой или в конец её последней строки"),
    ("this is a bug in the formatter; the file was left as it is (please report it with the file)",
     "это ошибка форматтера; файл оставлен как есть (сообщите о ней, приложив файл)"),
    ("remove the comments or keep them in a .loya file, where `loya fmt` keeps them (`loya convert` takes "
     "--drop-comments to drop them on purpose)",
     "удалите комментарии или храните их в файле .loya, где `loya fmt` их сохраняет (`loya convert` с "
     "--drop-comments отбрасывает их намеренно)"),
    ("keep the programme in .loya, or convert with --drop-comments to drop them on purpose",
     "храните программу в .loya или преобразуйте с --drop-comments, чтобы отбросить их намеренно"),
    # tests
    ("run `loya check` on {what}", "запустите `loya check` для {what}"),
    ("give `datetime`, or `now` in the case or the file", "укажите `datetime` или `now` в случае или в файле"),
    # offers
    ("raise the budget or lower the amounts", "увеличьте бюджет или уменьшите суммы"),
    ("durations are in days", "сроки задаются в днях"),
    # collisions and assertions
    ("give `{loser}` a priority above {priority}, narrow {names}, or move one of them to another group",
     "дайте `{loser}` приоритет выше {priority}, сузьте {names} или перенесите одну из них в другую группу"),
    ("widen the window or the conditions, or delete the campaign", "расширьте окно или условия либо удалите кампанию"),
    ("make `{loser}` give more than `{winner}`, narrow `{winner}`, or delete one of them",
     "пусть `{loser}` даёт больше, чем `{winner}`, сузьте `{winner}` или удалите одну из них"),
    ("lower a rate, add a cap (`max discount 500.00 RUB per receipt`), move the campaigns into a group that does not "
     "stack, or raise the limit",
     "снизьте ставку, добавьте потолок (`max discount 500.00 RUB per receipt`), перенесите кампании в группу без "
     "совмещения или поднимите предел"),
    ("the bound adds up every campaign a group may stack, trusting only filters (dates, hours, stores...) to keep them "
     "apart: put campaigns that exclude each other in a group that applies one (`first_by_priority`), cap those "
     "without a bound (`max discount ... per receipt`), or give fixed amounts a threshold",
     "оценка складывает все кампании, которые группа может совместить, и разделяет их только по фильтрам (даты, "
     "часы, магазины...): поместите взаимоисключающие кампании в группу, применяющую одну (`first_by_priority`), "
     "ограничьте кампании без предела (`max discount ... per receipt`) или задайте фиксированным суммам порог"),
    ("give them disjoint lines, lower a rate, or move one to a group that does not stack (`first_by_priority`, "
     "`best_for_customer`)",
     "дайте им непересекающиеся позиции, снизьте ставку или перенесите одну в группу без совмещения "
     "(`first_by_priority`, `best_for_customer`)"),
    # fraud, model scores, units
    ("allow at least one; to stop giving points altogether, remove the accruals",
     "разрешите хотя бы один; чтобы совсем перестать начислять баллы, уберите начисления"),
    ("compare it in `audience` or `when`", "сравнивайте её в `audience` или `when`"),
    ("e.g. `{func}(\"coffee\")`", "например, `{func}(\"coffee\")`"),
    ("read scores in `audience`, `when` or a segment's `when`, where a customer without them makes the condition "
     "false",
     "читайте оценки в `audience`, `when` или `when` сегмента, где покупатель без оценок делает условие ложным"),
    ("the group size is at least 1: `of every 2 units` for \"the second unit\"",
     "размер группы — не меньше 1: `of every 2 units` для «второй единицы»"),
    ("write the least number of points a redemption takes, e.g. `steps 100 points`",
     "укажите наименьшее число баллов для списания, например `steps 100 points`"),
    ("the position is 1 to {every}: `unit {every}` is the group's cheapest, `unit 1` its most expensive",
     "позиция — от 1 до {every}: `unit {every}` — самая дешёвая единица группы, `unit 1` — самая дорогая"),
    ("positions start at 1: `unit 1` is the most expensive unit, `cheapest unit` the cheapest",
     "позиции начинаются с 1: `unit 1` — самая дорогая единица, `cheapest unit` — самая дешёвая"),
    ("remove `rounded per ...`, or write the discount as a percentage",
     "уберите `rounded per ...` или задайте скидку процентом"),
    # groups and order
    ("`stacking stack_all` applies every campaign of the group together; put the exclusive campaign in a group with "
     "`stacking first_by_priority` (or `best_for_customer`), or drop `exclusive`",
     "`stacking stack_all` применяет все кампании группы вместе; поместите эксклюзивную кампанию в группу со "
     "`stacking first_by_priority` (или `best_for_customer`) либо уберите `exclusive`"),
    ("remove the `priority` clause and move the campaign in the file, or remove `order declared` from the group",
     "уберите `priority` и переместите кампанию в файле или уберите `order declared` из группы"),
    # accounts, tiers, declarations
    ("only one account takes the accruals written without `to`",
     "начисления без `to` идут только на один счёт"),
    ("keep one of `accrue on paid`, `accrue on redeemed`, `accrue never when redeemed`",
     "оставьте одно из `accrue on paid`, `accrue on redeemed`, `accrue never when redeemed`"),
    ("add `level base >= 0 RUB { cashback 3% }`", "добавьте `level base >= 0 RUB { cashback 3% }`"),
    ("add `sold skus [\"GC500\", \"GC1000\"]`", "добавьте `sold skus [\"GC500\", \"GC1000\"]`"),
    ("write the levels from the entry level up, with strictly ascending thresholds",
     "пишите уровни от начального вверх, со строго возрастающими порогами"),
    ("every level declares the same benefits (`tier.NAME` reads them)",
     "каждый уровень объявляет одни и те же привилегии (их читает `tier.NAME`)"),
    ("a benefit has one type in every level", "у привилегии один тип во всех уровнях"),
    ("the first declaration is at {where}", "первое объявление — в {where}"),
    ("the file's first row names its columns; `column` names one of them",
     "первая строка файла называет столбцы; `column` называет один из них"),
    ("only the main file declares the programme; remove this header",
     "программу объявляет только главный файл; уберите этот заголовок"),
    # the checker
    ("an effect gives the customer something: write a positive amount",
     "действие что-то даёт покупателю: укажите положительную сумму"),
    ("money, points and quantities multiply by a bare number (`receipt.total * 0.1`), money and points by a "
     "percentage; two amounts with units never multiply",
     "деньги, баллы и количества умножаются на число без единицы (`receipt.total * 0.1`), деньги и баллы — на "
     "процент; две величины с единицами не перемножаются"),
    ("cap what a customer gets over time with `limit N per day` (receipts) or `budget`",
     "ограничьте то, что покупатель получает со временем, через `limit N per day` (чеки) или `budget`"),
    ("write e.g. `budget 100000.00 {currency}` or `budget 1000000 points`",
     "напишите, например, `budget 100000.00 {currency}` или `budget 1000000 points`"),
    ("at most {most} in minor units (percentages in millionths, quantities in thousandths)",
     "не больше {most} в минимальных единицах (проценты — в миллионных, количества — в тысячных)"),
    ("quote each item: [\"a\", \"b\"]", "возьмите каждый элемент в кавычки: [\"a\", \"b\"]"),
    ("compare the receipt in `when`, and select lines by their own fields",
     "сравнивайте чек в `when`, а позиции выбирайте по их собственным полям"),
    ("e.g. `count(lines where {head} ...)`", "например, `count(lines where {head} ...)`"),
    ("select by what the line is (`sku`, `category`, `amount`, ...)",
     "выбирайте по тому, что это за позиция (`sku`, `category`, `amount`, ...)"),
    ("a campaign accrues into one account: write the same `to ACCOUNT` on each accrual (without `to` points go to "
     "the default account), or split the campaign",
     "кампания начисляет на один счёт: напишите одинаковый `to ACCOUNT` у каждого начисления (без `to` баллы идут "
     "на счёт по умолчанию) или разделите кампанию"),
    ("the first branch that is met applies", "применяется первая выполненная ветка"),
    ("write e.g. `{subject} <= {limit}`", "напишите, например, `{subject} <= {limit}`"),
    # commerce, experiments
    ("a rate is a share of the net price, from 0% to 100%", "ставка — доля цены без налога, от 0% до 100%"),
    ("count them in `receipt.total` with the header's `totals` instead",
     "вместо этого учитывайте их в `receipt.total` через `totals` в заголовке"),
    ("add a control, e.g. `arm control 50%`, or a `holdout 50%` that gets none of its campaigns",
     "добавьте контрольную группу, например `arm control 50%`, или `holdout 50%`, не получающую его кампаний"),
    ("an arm's weight lies between 0.01% and 100%, in steps of 0.01%; drop an arm nobody is in",
     "вес группы — от 0,01% до 100% с шагом 0,01%; уберите группу, в которую никто не попадает"),
    ("a customer is in one arm of each experiment, so the result would mix both tests; copy the campaign, one per "
     "experiment, or test one thing at a time",
     "покупатель состоит в одной группе каждого эксперимента, и результат смешал бы оба теста; скопируйте "
     "кампанию, по одной на эксперимент, или проверяйте что-то одно за раз"),
    ("drop the campaign's `arm` clause (it inherits the group's) or move it to another group",
     "уберите у кампании `arm` (она наследует группу эксперимента от своей группы) или перенесите её в другую группу"),
    ("the holdout gets none of the experiment's campaigns; join another arm, or turn the holdout into an arm "
     "(`arm NAME 10%`)",
     "контрольная группа без воздействия не получает кампаний эксперимента; войдите в другую группу или сделайте "
     "её обычной (`arm NAME 10%`)"),
    ("`holdout` names the holdout (`holdout 10%`); give this arm another name",
     "`holdout` — имя контрольной группы без воздействия (`holdout 10%`); дайте этой группе другое имя"),
    ("add `arm {name}.ARM` to the campaigns (or the group) it tests, or remove it",
     "добавьте `arm {name}.ARM` к кампаниям (или группе), которые он проверяет, или удалите его"),
    # messages, triggers, partners
    ("write `message receipt \"...\"` or `message cashier \"...\"`; send other channels from a trigger "
     "(`trigger ... { on purchase ... }`)",
     "напишите `message receipt \"...\"` или `message cashier \"...\"`; в другие каналы отправляйте из триггера "
     "(`trigger ... { on purchase ... }`)"),
    ("the rate is the share of the campaigns' points its receipts earn, e.g. `rate 50%`",
     "ставка — доля баллов кампаний, которую зарабатывают его чеки, например `rate 50%`"),
    ("a template holds text, `{{ variable }}` and `{% if variable %} ... {% else %} ... {% endif %}`",
     "шаблон содержит текст, `{{ variable }}` и `{% if variable %} ... {% else %} ... {% endif %}`"),
    ("shorten the message", "сократите сообщение"),
    ("write `{{ name }}` for a value and `{% if name %} ... {% endif %}` for a condition",
     "пишите `{{ name }}` для значения и `{% if name %} ... {% endif %}` для условия"),
    # redemption limits
    ("write each scope once: `redemptions 10 per store per day`",
     "укажите каждую область один раз: `redemptions 10 per store per day`"),
    ("allow at least one redemption, or remove the campaign (or give it `valid` dates in the past) to switch it off",
     "разрешите хотя бы одно использование или, чтобы выключить кампанию, удалите её (или задайте ей `valid` "
     "в прошлом)"),
    ("keep one limit per scope (overall, per store, per day, per store per day)",
     "оставьте один лимит на область (всего, на магазин, на день, на магазин в день)"),
    ("keep one `max discount ... per PERIOD` (and one per receipt)",
     "оставьте один `max discount ... per PERIOD` (и один на чек)"),
    ("cap it at an amount above zero, or remove the campaign", "ограничьте суммой больше нуля или удалите кампанию"),
    # segments
    ("list them: one_of [\"f\", \"m\"]", "перечислите их: one_of [\"f\", \"m\"]"),
    ("e.g. `lifecycle { new 30 days  active 90 days  sleeping 365 days }`",
     "например, `lifecycle { new 30 days  active 90 days  sleeping 365 days }`"),
    ("got new {new}, active {active}, sleeping {sleeping} days",
     "указано: new {new}, active {active}, sleeping {sleeping} дней"),
    ("add `bin 5: 0 .. 30`", "добавьте `bin 5: 0 .. 30`"),
    ("move that part of the condition to the campaign's `audience`", "перенесите эту часть условия в `audience` кампании"),
    ("e.g. `age(customer.profile.{name}) >= 18`", "например, `age(customer.profile.{name}) >= 18`"),
    ("e.g. `{func}({example})`", "например, `{func}({example})`"),
    ("put every field (or stage) in the first one", "перенесите все поля (или этапы) в первое объявление"),
    ("order the bins from the lowest range up, each starting above the end of the one before",
     "упорядочьте интервалы от нижнего вверх, каждый — выше конца предыдущего"),
    ("repeat the other segment's condition", "повторите условие другого сегмента"),
    ("declare `lifecycle { new 30 days  active 90 days  sleeping 365 days }`",
     "объявите `lifecycle { new 30 days  active 90 days  sleeping 365 days }`"),
    # rewards, lists
    ("an account holds at most {most} point minor units (points minor {minor}); lower the price",
     "счёт вмещает не больше {most} минимальных единиц баллов (points minor {minor}); снизьте цену"),
    ("declare one: `account bonus { }` (a reward is paid from the default account, or `from ACCOUNT`)",
     "объявите его: `account bonus { }` (награда оплачивается со счёта по умолчанию или `from ACCOUNT`)"),
    ("a catalogue reward has a price: write e.g. `reward 500 points`",
     "у награды из каталога есть цена: напишите, например, `reward 500 points`"),
    ("name the product the till adds: `gift \"MUG1\"` or `gift one of [\"MUG1\", \"MUG2\"]`",
     "назовите товар, который добавит касса: `gift \"MUG1\"` или `gift one of [\"MUG1\", \"MUG2\"]`"),
    ("leave `stock` out for a reward without a limit", "для награды без ограничения не указывайте `stock`"),
    ("take {shown} off one of the lists, or drop the `not in` if they should count",
     "уберите {shown} из одного из списков или уберите `not in`, если они должны учитываться"),
    # dates and strings (the parser)
    ("only {fields} take a bare string; write `{name} in [{value}]` or `{name} == {value}`",
     "строку без списка принимают только {fields}; напишите `{name} in [{value}]` или `{name} == {value}`"),
    ("dates lie from {first} to {last}; leave an end open (`valid 2025-01-01 ..`) for no end",
     "даты лежат в пределах от {first} до {last}; чтобы не ставить конец, оставьте его открытым "
     "(`valid 2025-01-01 ..`)"),
    ("write a real date as YYYY-MM-DD, e.g. 2025-01-31", "напишите существующую дату в виде ГГГГ-ММ-ДД, например 2025-01-31"),
    # triggers
    ("add `step { ... }` with an action", "добавьте `step { ... }` с действием"),
    ("delay a step (`step after 3 days { ... }`), or drop the exits",
     "отложите шаг (`step after 3 days { ... }`) или уберите выходы"),
    ("drop `if purchase`, or the exit", "уберите `if purchase` или выход"),
    ("e.g. `cap 2 per 7 days`", "например, `cap 2 per 7 days`"),
    ("add `issue SERIES` to a step, or drop the exit", "добавьте `issue SERIES` в шаг или уберите выход"),
    ("exit on another event (e.g. `exit on segment left NAME` for `on segment entered NAME`)",
     "завершайте по другому событию (например, `exit on segment left NAME` для `on segment entered NAME`)"),
    ("e.g. `on purchase number 3`", "например, `on purchase number 3`"),
    ("e.g. `on no purchase for 60 days`", "например, `on no purchase for 60 days`"),
    ("e.g. `accrue 100 points`", "например, `accrue 100 points`"),
    ("e.g. `add 1 to visits`", "например, `add 1 to visits`"),
    ("e.g. `quiet 22:00 .. 09:00`", "например, `quiet 22:00 .. 09:00`"),
    ("an accrual starts the `on accrual` chains: let one of them do something else, or start on another event",
     "начисление запускает цепочки `on accrual`: пусть одна из них делает что-то другое, или запускайте "
     "по другому событию"),
    ("send it on a channel that reaches the customer (push, sms, email, ...)",
     "отправьте его по каналу, который доходит до покупателя (push, sms, email, ...)"),
    # units, files, names
    ("write e.g. `10%` or `100.00 {currency}`", "напишите, например, `10%` или `100.00 {currency}`"),
    ("write money with its currency, e.g. `1000.00 {currency}`",
     "пишите деньги с валютой, например `1000.00 {currency}`"),
    ("write points with their unit, e.g. `100 points`", "пишите баллы с единицей, например `100 points`"),
    ("write a percentage with `%`, e.g. `10%`", "пишите процент со знаком `%`, например `10%`"),
    ("write a quantity with its unit, e.g. `1.5 kg` or `3 units`",
     "пишите количество с единицей, например `1.5 kg` или `3 units`"),
    ("write a duration with its unit, e.g. `14 days`", "пишите срок с единицей, например `14 days`"),
    ("name the file relative to the programme's file; allow another folder with `--allow-dir DIR`",
     "укажите путь к файлу относительно файла программы; другую папку разрешает `--allow-dir DIR`"),
    ("the standard mechanics are: {names}", "стандартные механики: {names}"),
    ("e.g. make `{arm}` {weight}; weights are shares of all customers and sum to exactly 100%",
     "например, задайте `{arm}` {weight}; веса — доли всех покупателей, в сумме ровно 100%"),
    ("{near} channels: {names}", "{near|hint} каналы: {names}"),
    ("{near} a template may read: {names}", "{near|hint} шаблон может читать: {names}"),
    ("a template may read: {names}", "шаблон может читать: {names}"),
    ("write `per store`, `per day` or both (or neither: overall)",
     "напишите `per store`, `per day` или оба (или ни одного: на всё время)"),
    ("no value a programme holds exceeds {most} (in minor units)",
     "ни одно значение в программе не превышает {most} (в минимальных единицах)"),
    # why a file cannot be read (inside LOY108-LOY114 messages)
    ("it is an absolute path", "это абсолютный путь"),
    ("it lies outside the folders the programme may read", "он вне папок, которые программа может читать"),
    ("it is larger than {limit} bytes", "он больше {limit} байт"),
    ("it is {kind}; a programme reads only regular files", "это {kind}; программа читает только обычные файлы"),
    ("its path holds a NUL character", "его путь содержит символ NUL"),
    ("the programme was given as text, with no folder to read files from",
     "программа передана текстом, без папки, из которой можно читать файлы"),
    ("with the files read before it, the programme reads more than {most} bytes",
     "вместе с прочитанными до него файлами программа читает больше {most} байт"),
    ("it is not UTF-8 text: an invalid byte at line {line}, column {column}",
     "это не текст UTF-8: неверный байт в строке {line}, столбце {column}"),
)
