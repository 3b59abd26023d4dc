"""Russian for the CLI's own lines and the labels of `loya eval` and `loya test` (gettext-style: the
English text, with its ``{named}`` parameters and rich markup, is the key). A line missing here is
printed in English; report labels of `loya simulate` are in ``loyadsl/locale_text.py`` (``RU``)."""

from __future__ import annotations

from loyadsl.i18n.ru_explain import REASONS

CLI: dict[str, str] = {
    # diagnostics
    "error": "ошибка", "warning": "предупреждение", "hint": "подсказка", "note": "примечание",
    # check, compile
    "[green]ok[/] {path}: programme “{name}”, {campaigns} campaigns in {groups} groups":
        "[green]ok[/] {path}: программа «{name}», кампаний: {campaigns}, групп: {groups}",
    "[green]ok[/] {path}: offer strategies {names}": "[green]ok[/] {path}: стратегии предложений {names}",
    "[green]compiled[/] {source} → {output} ({bytes} bytes, {campaigns} campaigns, cost ≤ {fixed} + "
    "{per_line}·lines, {digest}…)":
        "[green]скомпилировано[/] {source} → {output} (байт: {bytes}, кампаний: {campaigns}, "
        "стоимость ≤ {fixed} + {per_line}·позиций, {digest}…)",
    # eval: the receipt table
    "Receipt {id}": "Чек {id}", "line": "поз.", "sku": "артикул", "amount": "сумма", "discount": "скидка",
    "payable": "к оплате", "points": "баллы", "total": "итого",
    " (capped {amount})": " (ограничено {amount})",
    # eval: why a campaign did not apply (the runtime's reason codes)
    **REASONS,
    "{amount} points": "{amount} баллов",
    # eval: summary of several receipts
    "{receipts} receipts, turnover {turnover} {currency}": "Чеков: {receipts}, оборот {turnover} {currency}",
    "campaign": "кампания", "receipts": "чеки", "cost share": "доля затрат", "all campaigns": "все кампании",
    "  experiment {experiment}: {arm}": "  эксперимент {experiment}: {arm}",
    "anonymous, in no arm": "анонимный, ни в одной группе",
    # eval: the state side
    "never": "никогда",
    "+{points} points to {account}, active from {start}, expire {end} ({source})":
        "+{points} баллов на {account}, активны с {start}, сгорают {end} ({source})",
    "{points} points of lot {lot} in {account}": "{points} баллов партии {lot} на {account}",
    "−{points} points from {account} ({reason}, lot {lot})": "−{points} баллов со счёта {account} ({reason}, партия {lot})",
    "coupon issued: {code} ({series}), valid {start} .. {end}":
        "выпущен купон: {code} ({series}), действует {start} .. {end}",
    "coupon used: {code} ({series}) by {campaign}": "использован купон: {code} ({series}), кампания {campaign}",
    "coupon expired: {code} ({series})": "купон истёк: {code} ({series})",
    "{campaign} uses its limit ({period})": "{campaign} расходует свой лимит ({period})",
    "{campaign} spends {amount} of its budget": "{campaign} тратит {amount} из своего бюджета",
    "payment: {points} points pay {points_money} {currency}, certificates {certificates} {currency}; "
    "to pay {to_pay} {currency}":
        "оплата: {points} баллов покрывают {points_money} {currency}, сертификаты {certificates} {currency}; "
        "к оплате {to_pay} {currency}",
    "coupon {code}: {status}": "купон {code}: {status}",
    "accepted": "принят", "rejected": "отклонён", "used": "использован",
    # eval: returns
    "{amount} {currency} as points": "{amount} {currency} баллами",
    "{amount} {currency} to certificates": "{amount} {currency} на сертификаты",
    "the whole receipt": "весь чек", "part of the receipt": "часть чека",
    "return {id} of {receipt} ({whole}): {parts}": "возврат {id} по чеку {receipt} ({whole}): {parts}",
    "note: {n} return(s) skipped: their original receipts ({ids}) are not in this run":
        "примечание: пропущено возвратов: {n}; их исходных чеков ({ids}) нет в этом прогоне",
    "note: collision findings (LOY310-LOY313) need the analysis extra: pip install 'loyadsl[analysis]' "
    "(--no-collisions skips them)":
        "примечание: для поиска пересечений (LOY310-LOY313) нужно дополнение analysis: "
        "pip install 'loyadsl[analysis]' (--no-collisions их пропускает)",
    # test
    "{passed} passed, {failed} failed, {errors} files not loaded ({files} files, {cases} cases)":
        "пройдено: {passed}, не пройдено: {failed}, не загружено файлов: {errors} "
        "(файлов: {files}, случаев: {cases})",
    "[bold red]FAIL[/] {path}: {passed}/{cases} cases pass": "[bold red]FAIL[/] {path}: пройдено случаев {passed}/{cases}",
    "[green]ok[/] {path}: {passed}/{cases} cases pass": "[green]ok[/] {path}: пройдено случаев {passed}/{cases}",
    # simulate and diff: the report's first line, words in its cells
    "Simulation: ": "Симуляция: ", "Diff: ": "Сравнение: ",
    "ok": "ok", "FAILED": "НЕ ВЫПОЛНЕНА", "(none)": "(нет)", "anonymous": "аноним",
    "changed": "изменена", "same": "без изменений", "added": "новая", "removed": "удалена",
    "Monday": "понедельник", "Tuesday": "вторник", "Wednesday": "среда", "Thursday": "четверг",
    "Friday": "пятница", "Saturday": "суббота", "Sunday": "воскресенье",
}
