"""The default plan every university starts from: the seed plan (``shared/domain/emergency-plan.md``) as data.

Numbers the seed leaves open are ours, chosen from common practice and documented here:

- severity levels I–IV (特别重大 / 重大 / 较大 / 一般) suggested from the incident's facts:
  I at 300+ participants or 3+ injured; II at 100+ participants, or a safety threat with someone injured, or media
  attention to an event of 50+; III at 30+ participants, a safety threat, media attention, or 4+ hours without
  dispersal; IV at 5+ participants or any of the four risk categories present;
- step time targets, counted from the moment the incident is reported: assessment within 60 minutes (the report
  itself within 30 minutes of anyone learning of the event), instruction within 2 hours, on-site response and
  logistics within 2 hours, first information release within 4 hours then a progress update every 2 hours while
  the incident is active, the summary report within 7 days;
- evaluation weights: timeliness 0.35, coordination 0.25, information release 0.20, satisfaction 0.20;
- training every 180 days for every member of the four groups; a drill every 365 days.
"""

from __future__ import annotations

from tenants.plans.content import (
    AllOf,
    AnyCategory,
    AnyOf,
    Criterion,
    DurationAtLeast,
    EvaluationDimension,
    GoalsAndScope,
    InjuriesAtLeast,
    MaterialMinimum,
    Measure,
    MediaAttention,
    ParticipantsAtLeast,
    PlanContent,
    RiskCategory,
    SafetyThreat,
    SeverityLevel,
    Step,
    Text,
    TrainingCadence,
)

RISK_KEYS = ("group_event", "information_asymmetry", "public_opinion", "legal")


def _t(zh: str, en: str) -> Text:
    return Text(zh=zh, en=en)


def default_plan() -> PlanContent:
    """A fresh copy of the seed plan (zh-CN and en)."""
    return PlanContent(
        goals=GoalsAndScope(
            title=_t("高校信访工作应急预案", "Emergency Plan for Petition Work"),
            purpose=_t(
                "为维护高校的和谐稳定，保障师生的合法权益，妥善处理信访问题，制定本应急预案。预案旨在应对突发的"
                "信访事件，确保在出现问题时能够迅速、有效地调动各方资源，妥善解决问题，避免事态扩大。",
                "This plan keeps the university stable, protects the lawful rights of students and staff and handles "
                "petition matters properly. It prepares the university to respond to sudden petition events quickly "
                "and effectively, mobilize resources, resolve the problem and keep it from escalating.",
            ),
            goals=[
                _t(
                    "及时响应突发信访事件，确保问题得到有效处理",
                    "Respond in time to sudden petition events and get the problem handled effectively",
                ),
                _t(
                    "维护校园秩序，保护师生的合法权益",
                    "Keep campus order and protect the lawful rights of students and staff",
                ),
                _t(
                    "加强与师生的沟通，提升信访工作的透明度和公信力",
                    "Strengthen communication with students and staff; raise the transparency and credibility "
                    "of petition work",
                ),
            ],
            scope=[
                _t("学生群体性上访", "Group petitions by students"),
                _t("教职员工集体诉求", "Collective demands by faculty and staff"),
                _t("突发的信访事件对校园安全的影响", "Sudden petition events that affect campus safety"),
            ],
        ),
        risk_categories=[
            RiskCategory(
                key="group_event",
                name=_t("群体性事件", "Group event"),
                description=_t(
                    "因某一事件引发学生或教职工群体性的信访，可能导致校园秩序混乱。",
                    "One incident triggers a group petition by students or staff; campus order may break down.",
                ),
            ),
            RiskCategory(
                key="information_asymmetry",
                name=_t("信息不对称", "Information asymmetry"),
                description=_t(
                    "学校与师生之间信息沟通不畅，可能引发误解与不满。",
                    "Poor communication between the university and its people causes misunderstanding and discontent.",
                ),
            ),
            RiskCategory(
                key="public_opinion",
                name=_t("社会舆论压力", "Public opinion pressure"),
                description=_t(
                    "信访事件可能引起媒体关注，扩大问题影响，影响学校声誉。",
                    "Media attention widens the impact and harms the university's reputation.",
                ),
            ),
            RiskCategory(
                key="legal",
                name=_t("法律风险", "Legal risk"),
                description=_t(
                    "处理不当可能导致法律责任，损害学校形象。",
                    "Mishandling creates legal liability and harms the university's image.",
                ),
            ),
        ],
        severity_levels=[
            SeverityLevel(
                rank=1,
                code="I",
                name=_t("特别重大", "Extremely serious"),
                description=_t(
                    "大规模群体性事件或有人员伤亡，需学校领导小组全面指挥。",
                    "A large group event or casualties; the leadership group takes full command.",
                ),
                activation=AnyOf(conditions=[ParticipantsAtLeast(value=300), InjuriesAtLeast(value=3)]),
            ),
            SeverityLevel(
                rank=2,
                code="II",
                name=_t("重大", "Serious"),
                description=_t(
                    "较大规模聚集、危及安全或引起媒体广泛关注。",
                    "A sizeable gathering, a threat to safety with injuries, or wide media attention.",
                ),
                activation=AnyOf(
                    conditions=[
                        ParticipantsAtLeast(value=100),
                        AllOf(conditions=[SafetyThreat(), InjuriesAtLeast(value=1)]),
                        AllOf(conditions=[MediaAttention(), ParticipantsAtLeast(value=50)]),
                    ]
                ),
            ),
            SeverityLevel(
                rank=3,
                code="III",
                name=_t("较大", "Significant"),
                description=_t(
                    "聚集持续、威胁校园安全或已引起媒体关注。",
                    "A lasting gathering, a threat to campus safety, or media attention.",
                ),
                activation=AnyOf(
                    conditions=[
                        ParticipantsAtLeast(value=30),
                        SafetyThreat(),
                        MediaAttention(),
                        DurationAtLeast(minutes=240),
                    ]
                ),
            ),
            SeverityLevel(
                rank=4,
                code="IV",
                name=_t("一般", "General"),
                description=_t(
                    "小规模集体信访或存在预案所列风险。",
                    "A small collective petition or one of the plan's risks is present.",
                ),
                activation=AnyOf(conditions=[ParticipantsAtLeast(value=5), AnyCategory(categories=list(RISK_KEYS))]),
            ),
        ],
        steps=[
            Step(
                key="report",
                name=_t("事件报告", "Report"),
                description=_t(
                    "信访事件发生后，相关人员应及时向应急处置小组报告，内容包括事件的基本情况、涉及人员、初步影响等。",
                    "Whoever learns of the event reports it to the handling group at once: basic facts, people "
                    "involved, preliminary impact.",
                ),
                responsible_group="handling",
                target_minutes=30,
            ),
            Step(
                key="assessment",
                name=_t("信息收集与评估", "Information gathering and assessment"),
                description=_t(
                    "应急处置小组接到报告后，迅速组织人员进行现场评估，收集信访原因、涉及人员、现场情况等信息。",
                    "The handling group assesses on site: cause of the petition, people involved, conditions on site.",
                ),
                responsible_group="handling",
                target_minutes=60,
            ),
            Step(
                key="instruction",
                name=_t("指令下达", "Instruction"),
                description=_t(
                    "根据评估结果，领导小组迅速下达应急指令，决定是否启动应急预案的具体措施，明确各部门的职责和任务。",
                    "From the assessment, the leadership group issues emergency instructions: whether to activate "
                    "the plan's measures, and each office's duties and tasks.",
                ),
                responsible_group="leadership",
                target_minutes=120,
            ),
            Step(
                key="response",
                name=_t("应急响应", "Emergency response"),
                description=_t(
                    "应急处置小组组织力量，开展现场处置工作。",
                    "The handling group acts on site.",
                ),
                responsible_group="handling",
                target_minutes=120,
            ),
            Step(
                key="logistics",
                name=_t("后勤保障", "Logistics support"),
                description=_t(
                    "后勤保障组根据现场情况，提供饮水、医疗救助、场地保障等必要的后勤支持。",
                    "The logistics group provides drinking water, medical aid and a venue as the situation needs.",
                ),
                responsible_group="logistics",
                target_minutes=120,
            ),
            Step(
                key="information_release",
                name=_t("信息发布", "Information release"),
                description=_t(
                    "信息发布小组及时向全校师生通报事件进展和处理情况，确保信息透明，消除不必要的猜疑与不安。",
                    "The information release group tells all students and staff how the event is progressing and "
                    "being handled: transparency, no needless suspicion or anxiety.",
                ),
                responsible_group="info_release",
                target_minutes=240,
                repeat_every_minutes=120,
            ),
            Step(
                key="cleanup_summary",
                name=_t("现场清理与总结", "Cleanup and summary"),
                description=_t(
                    "事件处理完毕后，各小组进行现场清理，确保环境恢复正常，随后形成事件总结报告，分析原因，提出改进建议。",
                    "Each group clears the site and restores normal conditions, then writes an event summary "
                    "report: causes, and proposals for improvement.",
                ),
                responsible_group="handling",
                target_minutes=7 * 24 * 60,
            ),
        ],
        measures=[
            Measure(
                key="communication_coordination",
                name=_t("沟通协调", "Communication and coordination"),
                description=_t(
                    "与信访人员沟通，了解诉求，解释相关政策，争取达成共识。",
                    "Talk with the petitioners, learn their demands, explain policy, seek consensus.",
                ),
                responsible_group="handling",
                responsible_unit=_t("学生处", "Student Affairs"),
            ),
            Measure(
                key="keeping_order",
                name=_t("维持秩序", "Keeping order"),
                description=_t(
                    "如有必要，保卫处派遣人员到场维持现场秩序，确保安全。",
                    "Where needed Security sends staff to keep order and safety.",
                ),
                responsible_group="handling",
                responsible_unit=_t("保卫处", "Security"),
            ),
            Measure(
                key="psychological_support",
                name=_t("心理疏导", "Psychological support"),
                description=_t(
                    "如事件影响师生情绪，心理咨询中心派遣专业人员进行疏导，缓解情绪压力。",
                    "Where emotions run high the counseling center sends professionals.",
                ),
                responsible_group="handling",
                responsible_unit=_t("心理咨询中心", "Counseling Center"),
            ),
        ],
        materials=[
            MaterialMinimum(
                category="communication",
                code="COMM-RADIO",
                name=_t("对讲机", "Walkie-talkie"),
                minimum=10,
                unit=_t("台", "pcs"),
            ),
            MaterialMinimum(
                category="communication",
                code="COMM-PHONE",
                name=_t("应急手机", "Emergency phone"),
                minimum=2,
                unit=_t("部", "pcs"),
            ),
            MaterialMinimum(
                category="medical",
                code="MED-KIT",
                name=_t("急救包", "First-aid kit"),
                minimum=5,
                unit=_t("个", "kits"),
            ),
            MaterialMinimum(
                category="medical",
                code="MED-DRUG",
                name=_t("常用药品", "Common medicines"),
                minimum=5,
                unit=_t("套", "sets"),
            ),
            MaterialMinimum(
                category="safety",
                code="SAFE-SIGN",
                name=_t("警示标识", "Warning sign"),
                minimum=20,
                unit=_t("个", "pcs"),
            ),
            MaterialMinimum(
                category="safety",
                code="SAFE-BARRIER",
                name=_t("围栏", "Barrier"),
                minimum=20,
                unit=_t("组", "sections"),
            ),
            MaterialMinimum(
                category="logistics",
                code="LOG-WATER",
                name=_t("饮用水", "Drinking water"),
                minimum=200,
                unit=_t("瓶", "bottles"),
            ),
            MaterialMinimum(
                category="logistics",
                code="LOG-FOOD",
                name=_t("食品", "Food"),
                minimum=100,
                unit=_t("份", "portions"),
            ),
        ],
        evaluation=[
            EvaluationDimension(
                key="timeliness",
                name=_t("事件处置的及时性与有效性", "Timeliness and effectiveness of handling"),
                weight=0.35,
                criteria=[
                    Criterion(key="report_on_time", name=_t("按时报告", "Reported on time"), weight=0.4),
                    Criterion(key="response_on_time", name=_t("按时响应", "Responded on time"), weight=0.3),
                    Criterion(key="resolved", name=_t("问题得到解决", "Problem resolved"), weight=0.3),
                ],
            ),
            EvaluationDimension(
                key="coordination",
                name=_t("各部门的协调配合程度", "Coordination between offices"),
                weight=0.25,
                criteria=[
                    Criterion(key="tasks_acknowledged", name=_t("任务及时确认", "Tasks acknowledged"), weight=0.5),
                    Criterion(key="tasks_completed", name=_t("任务按时完成", "Tasks completed"), weight=0.5),
                ],
            ),
            EvaluationDimension(
                key="information_release",
                name=_t("信息发布的准确性与透明度", "Accuracy and transparency of information release"),
                weight=0.2,
                criteria=[
                    Criterion(
                        key="first_release_on_time", name=_t("首次发布及时", "First release on time"), weight=0.5
                    ),
                    Criterion(key="update_cadence", name=_t("按时通报进展", "Updates on cadence"), weight=0.3),
                    Criterion(key="accuracy", name=_t("无更正", "No corrections needed"), weight=0.2),
                ],
            ),
            EvaluationDimension(
                key="satisfaction",
                name=_t("师生的满意度与反馈", "Satisfaction and feedback of students and staff"),
                weight=0.2,
                criteria=[
                    Criterion(key="satisfaction_rate", name=_t("满意率", "Satisfaction rate"), weight=0.7),
                    Criterion(key="feedback_answered", name=_t("反馈得到回复", "Feedback answered"), weight=0.3),
                ],
            ),
        ],
        training=TrainingCadence(
            training_every_days=180,
            training_groups=["leadership", "handling", "info_release", "logistics"],
            drill_every_days=365,
            notes=_t(
                "定期对预案所列人员进行培训，并组织应急演练。",
                "The people named in the plan are trained regularly, and emergency drills are held.",
            ),
        ),
    )
