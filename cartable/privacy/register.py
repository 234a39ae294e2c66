"""The declarations: each kind of personal data the platform holds (or relays), its
purpose, data, recipients, legal basis, retention period and what happens at the end.

``cartable purge`` applies them (``purge.py``); the register of processing activities is
generated from them: shown to the data protection officer (/confidentialite/registre/)
and written in docs/privacy.md (``cartable privacy_register --check`` fails when the two
differ). A new kind of personal data is declared here, or it has no retention.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings

from . import purge
from .models import AUDIT_RETENTION_DAYS

PUBLIC_INTEREST = "Mission d'intérêt public (RGPD art. 6-1-e) : la continuité scolaire"
SECURITY = "Obligation de sécurité (RGPD art. 5-1-f et 32)"

DELETE = "supprimé"
PSEUDONYMISE = "pseudonymisé"
KEPT = "conservé (sans nom)"
NOT_STORED = "non conservé"


@dataclass(frozen=True)
class Declaration:
    key: str
    title: str
    models: str
    purpose: str
    data: str
    recipients: str
    legal_basis: str
    retention: str
    end: str
    purge: Callable | None = None


def declarations() -> list[Declaration]:
    weeks = settings.PRIVACY["PUPIL_NAME_WEEKS"]
    idle_days = settings.PRIVACY["ACCOUNT_INACTIVE_DAYS"]
    raw_days = settings.FLEET["HEARTBEAT_RAW_DAYS"]
    grace = settings.PRIVACY["OVERDUE_GRACE_DAYS"]
    after_loan = f"{weeks} semaines après la fin de la dernière mise à disposition"
    # A loan nobody ended still ends, for every period counted from a loan's end.
    forgotten = (
        f"une mise à disposition que personne n'a terminée compte comme finie {grace} jours "
        "après sa fin prévue (son coordonnateur est prévenu dès la fin prévue passée)"
    )
    items = [
        Declaration(
            key="pupil",
            title="Prénom d'usage de l'élève",
            models="organisation.Pupil",
            purpose="Relier l'élève malade à sa classe et l'y désigner",
            data="prénom d'usage, classe, date de création",
            recipients="enseignants de la classe, chef d'établissement, coordonnateur du "
            "département, famille et personnel hospitalier du prêt",
            legal_basis=PUBLIC_INTEREST,
            retention=f"jusqu'à {after_loan} ; {forgotten} (sans prêt : {weeks} semaines "
            "après sa création)",
            end=f"{PSEUDONYMISE} (le prénom est remplacé ; sans prêt : {DELETE})",
            purge=purge.pupils,
        ),
        Declaration(
            key="loan",
            title="Mise à disposition (prêt)",
            models="fleet.Loan, fleet.LoanEvent",
            purpose="Organiser le prêt du cartable et évaluer le dispositif",
            data="cartable, classe, dates, type de lieu (jamais d'adresse ni de motif), étapes",
            recipients="coordonnateur du département, équipe du parc (sans nom), "
            "enseignants de la classe",
            legal_basis=PUBLIC_INTEREST,
            retention=f"conservée pour l'évaluation ; le lien à l'élève nommé disparaît "
            f"{after_loan} ; {forgotten}",
            end=f"{PSEUDONYMISE} avec l'élève (le prêt ne désigne plus personne)",
        ),
        Declaration(
            key="attendance",
            title="Présences et qualité des séances",
            models="live.Attendance, live.SessionQuality",
            purpose="Rendre compte de l'usage et de la qualité du lien",
            data="heures d'arrivée, de départ et du dernier signe de vie de la connexion de "
            "chaque côté ; sommes et comptes de la "
            "qualité reçue (aucun nom, aucune image, aucun son)",
            recipients="coordonnateur du département, pilotage (en chiffres agrégés)",
            legal_basis=PUBLIC_INTEREST,
            retention="conservées pour l'évaluation : elles ne contiennent aucun nom et "
            "ne désignent plus personne une fois l'élève pseudonymisé",
            end=KEPT,
        ),
        Declaration(
            key="live_session",
            title="Séance en direct",
            models="live.LiveSession",
            purpose="Savoir quand une séance a eu lieu et qui l'a ouverte",
            data="début, fin, motif de fin, enseignant ou poste qui l'a démarrée",
            recipients="enseignants de la classe, coordonnateur du département",
            legal_basis=PUBLIC_INTEREST,
            retention=f"l'enseignant qui l'a démarrée : jusqu'à {after_loan} ; la séance "
            "elle-même est conservée pour l'évaluation",
            end=f"{PSEUDONYMISE} (le lien à l'enseignant est retiré)",
            purge=purge.live_sessions,
        ),
        Declaration(
            key="chat",
            title="Messages de la discussion, mains levées, réactions",
            models="aucun (relayés par le serveur)",
            purpose="Permettre à l'élève de participer pendant la séance",
            data="texte des messages, signaux de l'élève",
            recipients="la classe et l'élève, pendant la séance",
            legal_basis=PUBLIC_INTEREST,
            retention="0 : jamais enregistrés (ni en base, ni dans les journaux)",
            end=NOT_STORED,
        ),
        Declaration(
            key="accounts",
            title="Comptes des personnes",
            models="auth.User, django_otp (appareils TOTP)",
            purpose="Permettre aux personnels et aux familles invités de se connecter",
            data="adresse électronique, nom, mot de passe haché, dates de connexion",
            recipients="la personne elle-même ; les administrateurs",
            legal_basis=PUBLIC_INTEREST,
            retention=f"{idle_days} jours sans connexion",
            end=DELETE,
            purge=purge.accounts,
        ),
        Declaration(
            key="role_grants",
            title="Rôles des personnes",
            models="organisation.RoleGrant",
            purpose="Décider qui voit et fait quoi",
            data="personne, rôle, périmètre, date",
            recipients="la personne ; les coordonnateurs et administrateurs qui invitent",
            legal_basis=PUBLIC_INTEREST,
            retention=f"avec le compte ; les rôles sur un prêt (famille, personnel "
            f"hospitalier, enseignant APADHE) : jusqu'à {after_loan.replace('dernière ', '')}",
            end=DELETE,
            purge=purge.role_grants,
        ),
        Declaration(
            key="invitations",
            title="Invitations",
            models="organisation.Invitation",
            purpose="Créer les comptes des personnes invitées",
            data="adresse électronique, rôle, périmètre, auteur, dates",
            recipients="la personne qui invite",
            legal_basis=PUBLIC_INTEREST,
            retention=f"{purge.INVITATION_KEPT_DAYS} jours après leur expiration",
            end=DELETE,
            purge=purge.invitations,
        ),
        Declaration(
            key="sessions",
            title="Sessions de connexion",
            models="sessions.Session",
            purpose="Garder la personne connectée",
            data="clé de session, identifiant du compte",
            recipients="aucun (technique)",
            legal_basis=SECURITY,
            retention="jusqu'à leur expiration (deux semaines au plus)",
            end=DELETE,
            purge=purge.sessions,
        ),
        Declaration(
            key="audit",
            title="Journal d'audit",
            models="privacy.AuditEntry",
            purpose="Savoir qui a consulté ou modifié les données des élèves",
            data="compte et rôle, action, type et identifiant de l'objet, date (aucun nom d'élève)",
            recipients="délégué à la protection des données",
            legal_basis=SECURITY,
            retention=f"12 mois ({AUDIT_RETENTION_DAYS} jours)",
            end=DELETE,
            purge=purge.audit_log,
        ),
        Declaration(
            key="connection_logs",
            title="Journaux de connexion",
            models="axes (tentatives de connexion), journal du système",
            purpose="Détecter et bloquer les tentatives d'intrusion",
            data="adresse IP, adresse électronique saisie, date",
            recipients="administrateurs techniques",
            legal_basis=SECURITY,
            retention=f"6 mois ({purge.CONNECTION_LOG_DAYS} jours) ; le journal du "
            "système est réglé de même (voir deploy.md)",
            end=DELETE,
            purge=purge.connection_logs,
        ),
        Declaration(
            key="pairing_codes",
            title="Codes d'appairage",
            models="live.PairingCode",
            purpose="Appairer la tablette de l'élève à son prêt",
            data="code haché, prêt, enseignant qui l'a affiché, dates",
            recipients="l'enseignant qui l'affiche",
            legal_basis=PUBLIC_INTEREST,
            retention=f"{purge.PAIRING_CODE_KEPT_DAYS} jours après leur expiration "
            "(ils ne valent que 10 minutes)",
            end=DELETE,
            purge=purge.pairing_codes,
        ),
        Declaration(
            key="credentials",
            title="Identifiants d'appareil",
            models="fleet.DeviceCredential",
            purpose="Reconnaître la tablette de l'élève et le poste de la classe",
            data="secret haché, prêt ou cartable, dates, auteur de la révocation",
            recipients="enseignants de la classe (tablettes appairées)",
            legal_basis=PUBLIC_INTEREST,
            retention="les tablettes de l'élève sont révoquées avec la fin de leur prêt "
            f"({forgotten}) ; tout identifiant révoqué est gardé "
            f"{purge.REVOKED_CREDENTIAL_KEPT_DAYS} jours après sa révocation",
            end=DELETE,
            purge=purge.credentials,
        ),
        Declaration(
            key="heartbeats",
            title="Signaux de vie bruts des appareils",
            models="fleet.Heartbeat",
            purpose="Suivre l'état du parc",
            data="appareil, réseau, signal, batterie, date (aucune personne)",
            recipients="équipe du parc",
            legal_basis=PUBLIC_INTEREST,
            retention=f"{raw_days} jours, puis regroupés par jour et par appareil",
            end=f"{DELETE} (après regroupement)",
            purge=purge.heartbeats,
        ),
    ]
    if apps.is_installed("cartable.consent"):
        from cartable.consent.models import RETENTION_AFTER_LOAN_END

        items.append(
            Declaration(
                key="consent",
                title="Autorisations avant les séances",
                models="consent.GuardianAuthorisation, consent.PupilAgreement, "
                "consent.TeacherAgreement, consent.FamiliesInformed, consent.FrameExclusion",
                purpose="Prouver que les séances en direct d'un prêt étaient autorisées",
                data="dates, qualité du signataire (jamais un nom), forme, version du texte "
                "présenté à l'élève, nombre d'élèves hors champ (jamais qui)",
                recipients="coordonnateur du département, enseignants de la classe",
                legal_basis="Mission d'intérêt public ; recueil des autorisations "
                "(droit à l'image des mineurs)",
                retention=f"{RETENTION_AFTER_LOAN_END.days} jours après la fin du prêt "
                f"({forgotten})",
                end=DELETE,
                purge=purge.consent_records,
            )
        )
    if apps.is_installed("cartable.schoolwork"):
        from cartable.schoolwork.services import purge as schoolwork_purge

        work_days = settings.SCHOOLWORK["RETENTION_DAYS"]
        items.append(
            Declaration(
                key="schoolwork",
                title="Travail de l'élève (dossier « Travail »)",
                models="schoolwork.Work, schoolwork.WorkFile (et leurs fichiers)",
                purpose="Donner à l'élève les documents de sa classe et recevoir son travail",
                data="documents distribués (PDF vérifiés, images ré-encodées sans "
                "métadonnées, pages rendues en images, leur texte), traits dessinés par "
                "l'élève et par l'enseignant, réponse tapée, photos du travail sur papier, "
                "dates, état",
                recipients="enseignants de la classe, enseignant APADHE du prêt, "
                "coordonnateur du département, l'élève (sa tablette)",
                legal_basis=PUBLIC_INTEREST,
                retention=f"{work_days} jours après la fin du prêt ({forgotten})",
                end=f"{DELETE} (fichiers compris)",
                purge=schoolwork_purge,
            )
        )
    if apps.is_installed("cartable.surveys"):
        from cartable.surveys.services import purge_invitations

        link_days = settings.SURVEYS["LINK_VALID_DAYS"]
        items += [
            Declaration(
                key="survey_invitations",
                title="Invitations aux questionnaires",
                models="surveys.SurveyInvitation",
                purpose="Envoyer à chacun un lien à usage unique vers le questionnaire de "
                "fin de prêt (et de mi-parcours) et n'y laisser répondre qu'une fois",
                data="adresse électronique, prêt, tour, type de répondant, lien haché, "
                "dates d'envoi, d'expiration et d'utilisation (jamais les réponses)",
                recipients="aucun (technique)",
                legal_basis=PUBLIC_INTEREST,
                retention=f"{link_days} jours après l'expiration du lien (valable "
                f"{link_days} jours)",
                end=DELETE,
                purge=purge_invitations,
            ),
            Declaration(
                key="survey_responses",
                title="Réponses aux questionnaires",
                models="surveys.SurveyResponse, surveys.SurveyAnswer",
                purpose="Évaluer le dispositif (comités de pilotage, bilan annuel)",
                data="réponses sur une échelle, textes libres ; type de répondant, tour, "
                "année scolaire, académie, département, groupe de niveaux, type de lieu, "
                "jour de réponse (aucun nom, aucune adresse, aucun lien au prêt ni à "
                "l'invitation)",
                recipients="coordonnateur du département (textes libres, pour relecture), "
                "pilotage (en chiffres agrégés et textes retenus)",
                legal_basis=PUBLIC_INTEREST,
                retention="conservées pour l'évaluation : anonymes dès l'envoi ; un texte "
                "libre écarté à la relecture est effacé aussitôt",
                end=KEPT,
            ),
        ]
    return items


COLUMNS = (
    ("title", "Données"),
    ("purpose", "Finalité"),
    ("data", "Données traitées"),
    ("recipients", "Destinataires"),
    ("legal_basis", "Base légale"),
    ("retention", "Durée de conservation"),
    ("end", "À l'échéance"),
)
START = "<!-- registre:début (généré par `cartable privacy_register --write`) -->"
END = "<!-- registre:fin -->"


def markdown_table() -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(label for _, label in COLUMNS) + " |",
        "| " + " | ".join("---" for _ in COLUMNS) + " |",
    ]
    for declaration in declarations():
        row = [cell(getattr(declaration, name)) for name, _ in COLUMNS]
        row[0] = f"{row[0]} (`{declaration.models}`)"
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join([START, *lines, END])


def docs_block(text: str) -> str | None:
    """The register block of a document, or None when it has none."""
    if START not in text or END not in text:
        return None
    start = text.index(START)
    return text[start : text.index(END, start) + len(END)]
