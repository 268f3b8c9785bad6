"""The texts, in zh-CN and en. A petitioner's message names the university, the tracking number, the kind of
notice and how to download it with the lookup code: never the petitioner's name, the content or the opinion."""

from __future__ import annotations

NOTICE_KINDS = {
    "acceptance": ("受理告知书", "notice of acceptance"),
    "non_acceptance": ("不予受理告知书", "notice of non-acceptance"),
    "transfer": ("转送/交办告知书", "notice of transfer"),
    "extension": ("延期告知书", "notice of extension"),
    "reply": ("答复意见书", "reply opinion"),
    "review": ("复查意见书", "review opinion"),
    "rereview": ("复核意见书", "re-review opinion"),
}

STAFF_EVENTS = {
    "petition.assigned": ("信访事项已交办至您的单位", "A petition was assigned to your unit"),
    "petition.transferred": ("信访事项已转送至您的单位", "A petition was transferred to your unit"),
    "petition.deadline_reminder": ("信访事项办理期限临近", "A petition's deadline is near"),
    "petition.overdue": ("信访事项已超期", "A petition is overdue"),
    "task.assigned": ("有任务下达至您的单位", "A task was assigned to your unit"),
    "bulletin.drafted": ("有通报等待您审核", "A bulletin is waiting for your approval"),
    "supervision.issued": ("有督办单下达至您的单位", "A supervision order was issued to your unit"),
    "supervision.returned": ("督办答复被退回，请重新答复", "A supervision answer was returned: answer again"),
    "supervision.overdue": ("督办单已逾期，已提级督办", "A supervision order is overdue and was escalated"),
}


def notice_message(
    lang: str, *, university: str, tracking_number: str, kind: str, document_number: str, download: str, opt_out: str
) -> tuple[str, str, str]:
    """(email subject, email text, SMS text) of a written notice."""
    zh, en = NOTICE_KINDS.get(kind, (kind, kind))
    if lang == "en":
        subject = f"{university}: {en} on petition {tracking_number}"
        text = (
            f"{university} has issued a {en} ({document_number}) on your petition {tracking_number}.\n\n"
            f"Download it at {download} with your tracking number and the lookup code you received when the "
            f"petition was submitted.\n\n"
            f"To stop these messages: {opt_out}\n"
        )
        sms = (
            f"[{university}] A {en} was issued on petition {tracking_number}. "
            f"Download it with your lookup code: {download}"
        )
        return subject, text, sms
    subject = f"{university}：信访事项{tracking_number}的{zh}"
    text = (
        f"{university}已就您的信访事项（受理编号{tracking_number}）出具{zh}（{document_number}）。\n\n"
        f"请访问 {download} ，凭受理编号和提交时获得的查询码下载。\n\n"
        f"如不再接收此类通知，请访问：{opt_out}\n"
    )
    sms = f"【{university}】您的信访事项{tracking_number}已出具{zh}，请凭查询码在 {download} 下载。"
    return subject, text, sms


def staff_message(
    lang: str, *, university: str, event_type: str, tracking_number: str | None, link: str
) -> tuple[str, str]:
    """(subject, text) of a staff email: what happened and where to look, nothing personal."""
    zh, en = STAFF_EVENTS[event_type]
    ref = f" {tracking_number}" if tracking_number else ""
    if lang == "en":
        return f"{university}: {en}{ref}", f"{en}{ref}.\n\nOpen: {link}\n"
    return f"{university}：{zh}{ref}", f"{zh}{ref}。\n\n查看：{link}\n"
