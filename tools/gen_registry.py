#!/usr/bin/python3
"""Generate grantd's class registry from the Fluxx field catalogue.

Reads the field catalogue (fluxx-doc-fields.tsv) plus the hand-written overrides in this
file and writes src/models/classes.c (the registry rows), docs/classes.md (per-class field
tables) and docs/workflows.md (states and transitions). Standard library only:

    /usr/bin/python3 tools/gen_registry.py [PATH/TO/fluxx-doc-fields.tsv]

The default TSV path is ../shared/fluxx/fluxx-doc-fields.tsv relative to the repository
root. Output is deterministic; clang-format -i runs on the C file when it is installed.
The catalogue supplies field names and types only; every description here is ours.
Run with -v to print the relation decisions (aliases, has_many resolution, skips).
"""

import csv
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TSV = os.path.normpath(os.path.join(ROOT, "..", "shared", "fluxx", "fluxx-doc-fields.tsv"))
IDENT = re.compile(r"^[a-z][a-z0-9_]*$")

# ---------------------------------------------------------------------------------------
# Classes: snake name -> metadata. `noun` is how descriptions refer to a record.
# flags: CF_*; scope: SCOPE_*; compact: fields of the v1 `compact` style (besides id);
# required: FF_REQUIRED fields.
# ---------------------------------------------------------------------------------------
CLASSES = {
    "bank_account": dict(
        noun="bank account",
        desc="Bank details of an organization or a person that payments are sent to.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_VIA_ORG", scope_col="owner_organization_id",
        compact=["account_name", "bank_name", "owner_organization_id", "owner_user_id",
                 "active", "state"],
        required=[]),
    "budget_request": dict(
        noun="budget request",
        desc="A named budget line of a grant request, with the amount asked for and the "
             "amount recommended.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_VIA_GRANT", scope_col="request_id",
        compact=["request_id", "name", "amount_requested", "amount_recommended"],
        required=["request_id"]),
    "fund": dict(
        noun="fund",
        desc="A pool of money the foundation manages and grants out of.",
        flags=[], scope="SCOPE_NONE", scope_col=None,
        compact=["name", "state", "balance"],
        required=["name"]),
    "funding_source": dict(
        noun="funding source",
        desc="A budget or income line (for example an endowment draw or a donor gift) that "
             "grants are paid from.",
        flags=[], scope="SCOPE_NONE", scope_col=None,
        compact=["name", "state", "amount", "start_at", "end_at"],
        required=["name"]),
    "funding_source_allocation": dict(
        noun="allocation",
        desc="A slice of a funding source set aside for a program, sub-program, initiative or "
             "sub-initiative in a spending year.",
        flags=[], scope="SCOPE_NONE", scope_col=None,
        compact=["funding_source_id", "program_id", "amount", "spending_year"],
        required=[]),
    "geo_city": dict(
        noun="city",
        desc="A city, as reference data for addresses.",
        flags=[], scope="SCOPE_ALL", scope_col=None,
        compact=["name", "geo_state_id", "geo_country_id"],
        required=["name"]),
    "geo_country": dict(
        noun="country",
        desc="A country, as reference data for addresses and reporting.",
        flags=[], scope="SCOPE_ALL", scope_col=None,
        compact=["name", "iso2", "iso3"],
        required=["name"]),
    "geo_state": dict(
        noun="state or province",
        desc="A state, province or region of a country, as reference data for addresses.",
        flags=[], scope="SCOPE_ALL", scope_col=None,
        compact=["name", "abbreviation", "geo_country_id"],
        required=["name"]),
    "grant_request": dict(
        noun="grant request",
        desc="An application for funding from an organization; once promoted it is the grant "
             "itself, with its amounts, dates and workflow state.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_GRANT", scope_col=None,
        compact=["base_request_id", "state", "granted", "program_organization_id",
                 "program_id", "amount_requested", "amount_recommended", "grant_begins_at",
                 "grant_closed_at"],
        required=["program_organization_id", "program_id"]),
    "initiative": dict(
        noun="initiative",
        desc="A focus area inside a program or sub-program, the third level of the funding "
             "hierarchy.",
        flags=[], scope="SCOPE_NONE", scope_col=None,
        compact=["name", "program_id", "sub_program_id"],
        required=["name"]),
    "model_attribute": dict(
        noun="attribute definition",
        desc="The definition of a site-defined (dynamic) field of some class: its name, type "
             "and display options.",
        flags=["CF_ADMIN_WRITE"], scope="SCOPE_NONE", scope_col=None,
        compact=["name", "model_type", "attribute_type"],
        required=["model_type", "name", "attribute_type"]),
    "model_attribute_choice": dict(
        noun="attribute choice",
        desc="One value of a site-defined field held by one record, such as a selected option "
             "of a multi-value field.",
        flags=[], scope="SCOPE_NONE", scope_col=None,
        compact=["model_attribute_id", "model_id", "model_attribute_value_id"],
        required=["model_attribute_id", "model_id"]),
    "model_attribute_value": dict(
        noun="attribute option",
        desc="One selectable option of a site-defined drop-down or multi-value field.",
        flags=[], scope="SCOPE_NONE", scope_col=None,
        compact=["model_attribute_id", "value", "retired"],
        required=["model_attribute_id", "value"]),
    "model_document": dict(
        noun="document",
        desc="A file attached to a record (a grant request, an organization, a report...), "
             "with its name, type and size.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_DOC", scope_col=None,
        compact=["document_file_name", "documentable_type", "documentable_id",
                 "document_content_type", "document_file_size"],
        required=["documentable_type", "documentable_id"]),
    "note": dict(
        noun="note",
        desc="A free-text remark a user attached to a record.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_NONE", scope_col=None,
        compact=["notable_type", "notable_id", "note", "created_by_id"],
        required=["notable_type", "notable_id", "note"]),
    "organization": dict(
        noun="organization",
        desc="A grantee, fiscal sponsor or other organization the foundation deals with, with "
             "its address, tax and screening details.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_ORG", scope_col=None,
        compact=["name", "acronym", "state", "city", "geo_country_id"],
        required=["name"]),
    "program": dict(
        noun="program",
        desc="A top-level area of the foundation's grant making; grant requests are filed "
             "under one.",
        flags=[], scope="SCOPE_NONE", scope_col=None,
        compact=["name", "retired"],
        required=["name"]),
    "request_amendment": dict(
        noun="amendment",
        desc="A change to an awarded grant's amount, duration or dates, keeping the old values "
             "beside the new ones.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_VIA_GRANT", scope_col="request_id",
        compact=["request_id", "state", "amount_recommended", "start_date", "end_date"],
        required=["request_id"]),
    "request_funding_source": dict(
        noun="funding line",
        desc="The part of a grant request's amount charged to one funding source allocation.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_VIA_GRANT", scope_col="request_id",
        compact=["request_id", "funding_source_allocation_id", "funding_amount"],
        required=["request_id"]),
    "request_report": dict(
        noun="report",
        desc="A report a grantee owes on a grant (narrative, financial...), with its due date "
             "and review state.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_VIA_GRANT", scope_col="request_id",
        compact=["request_id", "report_type", "state", "due_at"],
        required=["request_id"]),
    "request_transaction": dict(
        noun="payment",
        desc="A scheduled or completed payment of a grant, with its due and paid amounts and "
             "dates.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_VIA_GRANT", scope_col="request_id",
        compact=["request_id", "state", "amount_due", "amount_paid", "due_at", "paid_at"],
        required=["request_id"]),
    "request_transaction_funding_source": dict(
        noun="payment funding line",
        desc="The part of a payment charged to one funding line of its grant.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_NONE", scope_col=None,
        compact=["request_transaction_id", "request_funding_source_id", "amount"],
        required=[]),
    "sub_initiative": dict(
        noun="sub-initiative",
        desc="A subdivision of an initiative, the fourth and lowest level of the funding "
             "hierarchy.",
        flags=[], scope="SCOPE_NONE", scope_col=None,
        compact=["name", "initiative_id"],
        required=["name"]),
    "sub_program": dict(
        noun="sub-program",
        desc="A subdivision of a program, the second level of the funding hierarchy.",
        flags=[], scope="SCOPE_NONE", scope_col=None,
        compact=["name", "program_id"],
        required=["name", "program_id"]),
    "user": dict(
        noun="user",
        desc="A person known to the site: staff member, grantee contact or reviewer, with "
             "contact details and an API role.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_USER", scope_col=None,
        compact=["first_name", "last_name", "email", "login", "state"],
        required=["first_name", "last_name"]),
    "user_organization": dict(
        noun="affiliation",
        desc="Links a user to an organization, with the person's title and contact details "
             "there.",
        flags=["CF_STAFF_WRITE"], scope="SCOPE_VIA_ORG", scope_col="organization_id",
        compact=["user_id", "organization_id", "title"],
        required=["user_id", "organization_id"]),
    "user_profile": dict(
        noun="user profile",
        desc="A named set of permissions and dashboard settings that users are assigned to.",
        flags=[], scope="SCOPE_NONE", scope_col=None,
        compact=["name"],
        required=[]),
    "workflow_event": dict(
        noun="workflow event",
        desc="One recorded state change of a workflow-enabled record: old state, new state, "
             "who and when. Written by the server, read-only through the API.",
        flags=["CF_READONLY"], scope="SCOPE_NONE", scope_col=None,
        compact=["workflowable_type", "workflowable_id", "old_state", "new_state",
                 "created_at"],
        required=[]),
}

# Rows the catalogue lacks, in its own column order (model_class, path_segment, field,
# data_type_or_related_class, kind, plural, writable). SubInitiative is missing from the
# catalogue; its fields follow fluxx-reference §7.8 (ingestr) with the types its siblings
# (initiative, sub_program) use.
EXTRA_ROWS = [
    ("SubInitiative", "sub_initiative", "created_at", "datetime", "column", "no", "no"),
    ("SubInitiative", "sub_initiative", "deleted_at", "datetime", "column", "no", "no"),
    ("SubInitiative", "sub_initiative", "description", "text", "column", "no", "yes"),
    ("SubInitiative", "sub_initiative", "exclude_from_mel", "boolean", "column", "no", "yes"),
    ("SubInitiative", "sub_initiative", "id", "integer", "column", "no", "no"),
    ("SubInitiative", "sub_initiative", "migrate_id", "string", "column", "no", "yes"),
    ("SubInitiative", "sub_initiative", "migrate_source_name", "string", "column", "no", "yes"),
    ("SubInitiative", "sub_initiative", "name", "string", "column", "no", "yes"),
    ("SubInitiative", "sub_initiative", "retired", "boolean", "column", "no", "yes"),
    ("SubInitiative", "sub_initiative", "updated_at", "datetime", "column", "no", "no"),
    ("SubInitiative", "sub_initiative", "created_by", "User", "relation", "no", "no"),
    ("SubInitiative", "sub_initiative", "created_by_id", "User", "relation", "no", "yes"),
    ("SubInitiative", "sub_initiative", "initiative_id", "Initiative", "relation", "no", "yes"),
    ("SubInitiative", "sub_initiative", "program_id", "Program", "relation", "no", "yes"),
    ("SubInitiative", "sub_initiative", "sub_program_id", "SubProgram", "relation", "no", "yes"),
    ("SubInitiative", "sub_initiative", "updated_by", "User", "relation", "no", "no"),
    ("SubInitiative", "sub_initiative", "updated_by_id", "User", "relation", "no", "yes"),
    ("SubInitiative", "sub_initiative", "not_retired", "method", "boolean", "no", "no"),
    ("SubInitiative", "sub_initiative", "to_s", "method", "string", "no", "no"),
    ("SubInitiative", "sub_initiative", "all_notes", "method", "string", "yes", "no"),
    # The catalogue has documentable_type only as a computed member, yet it is half of the
    # polymorphic owner key (documentable_type, documentable_id) that uploads set.
    ("ModelDocument", "model_document", "documentable_type", "string", "column", "no", "yes"),
    # grantd extension: the API role of contract §8.
    ("User", "user", "role", "string", "column", "no", "yes"),
]

# Catalogue rows that are wrong for grantd's wire format.
TYPE_OVERRIDES = {
    # Uploads send "document_type":"file" (fluxx-reference §7.7); the catalogue says integer.
    ("model_document", "document_type"): "string",
}

# Catalogue class names that are not classes of their own.
CLASS_ALIASES = {"Request": "grant_request"}

# Targets of `*_id` fields, overriding inference. None: an integer, not a reference
# (external ids, polymorphic ids whose class is in a sibling *_type column).
REF_TARGETS = {
    ("*", "locked_by_id"): "user",
    ("*", "request_id"): "grant_request",
    ("*", "ofac_result_id"): None,
    ("*", "ofac_run_id"): None,
    ("*", "original_id"): None,
    ("*", "board_authority_id"): None,
    ("*", "documentable_id"): None,
    ("*", "notable_id"): None,
    ("*", "workflowable_id"): None,
    ("*", "related_workflowable_id"): None,
    ("*", "principal_entity_id"): None,
    ("*", "related_model_id"): None,
    ("*", "model_id"): None,
    ("*", "model_value_id"): None,
    ("user_profile", "cloned_user_profile_id"): "user_profile",
    ("model_attribute", "parent_id"): "model_attribute",
    ("model_attribute", "native_language_attribute_id"): "model_attribute",
    ("model_attribute_value", "dependent_model_attribute_value_id"): "model_attribute_value",
    # The catalogue says Initiative; the name and every sibling class say SubInitiative.
    ("funding_source_allocation", "sub_initiative_id"): "sub_initiative",
}

# Plural relations: (class, relation) -> FK column in the target class that backs it, or
# None to skip it. Without an entry, a plural relation is kept when exactly one reference
# field of the target (other than created_by_id/updated_by_id/locked_by_id) points back.
HAS_MANY = {
    ("organization", "grant_requests"): "program_organization_id",
    ("organization", "request_ids"): "program_organization_id",
    ("organization", "fiscal_requests"): "fiscal_organization_id",
    ("organization", "satellite_org_ids"): "parent_org_id",
    ("user", "program_lead_requests"): "program_lead_id",
    # Fluxx limits these to promoted grants, which a plain FK cannot express.
    ("organization", "grant_ids"): None,
    ("user", "fiscal_org_owner_grants"): None,
    ("user", "fiscal_signatory_grants"): None,
    ("user", "grantee_org_owner_grants"): None,
    ("user", "grantee_signatory_grants"): None,
    ("user", "related_user1_grants"): None,
    ("user", "related_user2_grants"): None,
    ("user", "related_user3_grants"): None,
    ("funding_source", "grant_ids"): None,
    ("request_transaction", "grant_ids"): None,
    ("request_report", "grant_ids"): None,
    # Only the reports generated from letters, a subset request_id alone cannot pick out.
    ("grant_request", "letter_request_reports"): None,
}
AUDIT_REFS = ("created_by_id", "updated_by_id", "locked_by_id")

# Irregular plurals for relations whose catalogue target is `method`.
PLURALS = {"geo_cities": "geo_city", "geo_counties": "geo_county",
           "children_programs": "program"}

# ---------------------------------------------------------------------------------------
# Field flags
# ---------------------------------------------------------------------------------------
SECRET_RE = re.compile(r"^(mfa_.*|.*(crypted|salt|token|secret|otp_key|password_digest).*)$")
MASKED = {
    "bank_account": ["account_number", "intermediary_account_number", "domestic_wire_aba_routing",
                     "wire_transfer_number", "bank_code", "intermediary_bank_code",
                     "foreign_wire_beneficiary_bank_swift",
                     "foreign_wire_intermediary_bank_swift"],
}
# Datetime columns that hold a calendar date (Fluxx stores midnight UTC): business dates a
# person enters or that a schedule produces, as opposed to event timestamps.
DATEONLY = {
    "birth_at", "closed_at", "opened_at", "donated_at", "due_at", "paid_at", "start_at",
    "end_at", "start_date", "end_date", "old_start_date", "old_end_date",
    "fip_projected_end_at", "funds_expended_at", "grant_agreement_at", "grant_approved_at",
    "grant_begins_at", "grant_closed_at", "gs_grant_ends_at", "ierf_budget_end_at",
    "ierf_proposed_end_at", "request_received_at",
}
# Tokens of a column name that mark human text (full-text indexed) ...
FT_INCLUDE = {
    "name", "title", "description", "summary", "note", "notes", "comment", "email", "city",
    "address", "address2", "acronym", "condition", "goals", "tactics", "risks", "overlap",
    "work", "probability", "department", "instructions", "capital", "nationality", "value",
    "salutation", "contact", "label", "report", "restrictions", "review",
}
# ... and tokens or prefixes that rule it out.
FT_EXCLUDE_TOKENS = {"id", "ids", "code", "type", "state", "status", "str", "url", "uid",
                     "token", "key", "phone", "fax", "mobile", "extension", "number", "year",
                     "identifier", "config", "settings", "table", "format", "swift", "aba",
                     "routing", "leid", "equivalent", "legacy", "mapped", "ip"}
FT_EXCLUDE_PREFIX = ("migrate_", "ext_sync_", "fx_", "ofac_", "mfa_", "api_", "decimal_")
FT_ADD = {
    ("organization", "tax_notes"), ("organization", "other_contact"),
    ("user", "other_contact"), ("request_report", "report"), ("program", "description"),
}
FT_REMOVE = {
    ("note", "attribute_name"), ("model_attribute", "value_model_type"),
    ("model_document", "doc_label"), ("model_document", "original_file_name"),
    ("grant_request", "grantee_budget_config"), ("grant_request", "ierf_probability"),
    ("funding_source", "probability"), ("model_attribute", "calculation_related_model_type"),
    ("model_attribute", "calculation_relationship_field"), ("model_document", "storage_type"),
}
# Fields a grantee may never write besides state, amounts and references.
GRANTEE_RO = {
    ("grant_request", "granted"), ("grant_request", "base_request_id"),
    ("grant_request", "grant_approved_at"), ("grant_request", "grant_agreement_at"),
    ("grant_request", "grant_begins_at"), ("grant_request", "grant_closed_at"),
    ("grant_request", "duration_in_months"), ("grant_request", "type"),
    ("request_transaction", "paid_at"), ("request_transaction", "due_at"),
    ("request_transaction", "payment_confirmation_number"),
    ("request_report", "approved_at"), ("request_report", "due_at"),
    ("request_report", "report_type"), ("request_report", "evaluation_rating"),
    ("organization", "c3_status_approved"), ("user", "role"), ("user", "login"),
}
ENUMS = {
    ("model_attribute", "attribute_type"):
        "string|text|integer|decimal|boolean|date|datetime|multi_value",
    ("user", "role"): "admin|super_user|developer|employee|grantee",
}
# String columns that need more than 255 characters.
MAXLEN = {}

# ---------------------------------------------------------------------------------------
# Workflows (fluxx-reference §7.5; states[0] is the initial state)
# ---------------------------------------------------------------------------------------
WORKFLOWS = {
    "grant_request": dict(
        states=["new", "pending", "funding_recommended", "pending_grant_team_approval",
                "pending_po_approval", "pending_president_approval",
                "pending_grant_promotion", "sent_back_to_pa", "sent_back_to_po", "granted",
                "closed", "rejected", "canceled"],
        transitions=[
            ("new", "pending", "the applicant submits the request"),
            ("new", "funding_recommended", "staff recommend funding straight away"),
            ("pending", "funding_recommended", "the program associate recommends funding"),
            ("funding_recommended", "pending_grant_team_approval",
             "the recommendation goes to the grant team"),
            ("pending_grant_team_approval", "pending_po_approval", "the grant team approves"),
            ("pending_grant_team_approval", "sent_back_to_pa",
             "the grant team returns it to the program associate"),
            ("pending_po_approval", "pending_president_approval",
             "the program officer approves"),
            ("pending_po_approval", "sent_back_to_pa",
             "the program officer returns it to the program associate"),
            ("pending_president_approval", "pending_grant_promotion", "the president approves"),
            ("pending_president_approval", "sent_back_to_po",
             "the president returns it to the program officer"),
            ("pending_grant_promotion", "granted", "the request is promoted to a grant"),
            ("pending_grant_promotion", "sent_back_to_po",
             "returned to the program officer before promotion"),
            ("sent_back_to_pa", "funding_recommended",
             "the program associate revises and recommends again"),
            ("sent_back_to_pa", "pending_grant_team_approval",
             "the program associate resubmits to the grant team"),
            ("sent_back_to_po", "pending_president_approval",
             "the program officer approves again"),
            ("sent_back_to_po", "sent_back_to_pa",
             "the program officer passes it back to the program associate"),
            ("granted", "closed", "the grant is closed out"),
            ("granted", "canceled", "an awarded grant is canceled"),
        ] + [(s, "rejected", "declined") for s in
             ["new", "pending", "funding_recommended", "pending_grant_team_approval",
              "pending_po_approval", "pending_president_approval", "pending_grant_promotion",
              "sent_back_to_pa", "sent_back_to_po"]]
          + [(s, "canceled", "withdrawn") for s in
             ["new", "pending", "funding_recommended", "pending_grant_team_approval",
              "pending_po_approval", "pending_president_approval", "pending_grant_promotion",
              "sent_back_to_pa", "sent_back_to_po"]]),
    # `new` predates `tentatively_due` as the initial state; only a create (an import) can
    # set it, and it leads into the schedule.
    "request_transaction": dict(
        states=["tentatively_due", "new", "due", "paid"],
        transitions=[
            ("new", "tentatively_due", "the payment is scheduled provisionally"),
            ("new", "due", "the payment is scheduled firmly"),
            ("tentatively_due", "due", "the payment's conditions are met"),
            ("due", "tentatively_due", "the payment is put back on hold"),
            ("due", "paid", "the payment is made"),
            ("paid", "due", "an admin reverses a payment (a returned transfer); nobody else "
             "may (rule paid_stays_paid, docs/payments.md)"),
        ]),
    "request_report": dict(
        states=["new", "report_received", "pending_lead_approval",
                "pending_grant_team_approval", "pending_finance_approval", "approved",
                "sent_back_to_pa", "sent_back_to_lead", "sent_back_to_grant_team"],
        transitions=[
            ("new", "report_received", "the grantee submits the report"),
            ("report_received", "pending_lead_approval",
             "the program associate reviews it and passes it on"),
            ("pending_lead_approval", "pending_grant_team_approval",
             "the program lead approves"),
            ("pending_lead_approval", "sent_back_to_pa",
             "the program lead returns it to the program associate"),
            ("pending_grant_team_approval", "pending_finance_approval",
             "the grant team approves a report that needs a finance review"),
            ("pending_grant_team_approval", "approved",
             "the grant team approves a report that needs no finance review"),
            ("pending_grant_team_approval", "sent_back_to_lead",
             "the grant team returns it to the program lead"),
            ("pending_finance_approval", "approved", "finance approves"),
            ("pending_finance_approval", "sent_back_to_grant_team",
             "finance returns it to the grant team"),
            ("sent_back_to_pa", "pending_lead_approval",
             "the program associate resubmits to the lead"),
            ("sent_back_to_lead", "pending_grant_team_approval",
             "the program lead approves again"),
            ("sent_back_to_grant_team", "pending_finance_approval",
             "the grant team approves again"),
            ("sent_back_to_grant_team", "approved",
             "the grant team settles it without a new finance review"),
        ]),
    "user": dict(
        states=["active", "passive"],
        transitions=[
            ("active", "passive", "the account is deactivated"),
            ("passive", "active", "the account is reactivated"),
        ]),
    "organization": dict(
        states=["new", "approved", "rejected"],
        transitions=[
            ("new", "approved", "the organization passes vetting"),
            ("new", "rejected", "the organization fails vetting"),
            ("approved", "new", "the organization is sent back for re-vetting"),
            ("rejected", "new", "the organization is reconsidered"),
        ]),
}

# ---------------------------------------------------------------------------------------
# Building the field lists
# ---------------------------------------------------------------------------------------
TYPE_OF = {"integer": "FT_INT", "decimal": "FT_DECIMAL", "float": "FT_FLOAT",
           "string": "FT_STRING", "text": "FT_TEXT", "boolean": "FT_BOOL", "date": "FT_DATE",
           "datetime": "FT_DATETIME"}
SERVER_FIELDS = ("id", "created_at", "updated_at", "deleted_at")
VERBOSE = False


def log(msg):
    if VERBOSE:
        print(msg, file=sys.stderr)


def snake_of(camel, seg_of):
    if camel in CLASS_ALIASES:
        return CLASS_ALIASES[camel]
    if camel in seg_of:
        return seg_of[camel]
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", camel).lower()


def load(tsv):
    with open(tsv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    keys = ["model_class", "path_segment", "field", "data_type_or_related_class", "kind",
            "plural", "writable"]
    for r in EXTRA_ROWS:
        d = dict(zip(keys, r))
        d["model_flags"] = ""
        d["ingestr_type"] = ""
        rows.append(d)
    return rows


# Computed members with a clear definition become registry SQL expressions: read-only,
# rendered, filterable and sortable like columns. `$` stands for the queried table's alias.
# Types are grantd's (exact decimals where the catalogue says double). Everything else the
# catalogue lists as computed is documented as not supported.
ORG_OF = '(SELECT o."name" FROM "organization" o WHERE o."id" = $."%s")'
STATE_EN = ('(upper(substr($."state", 1, 1)) || replace(substr($."state", 2), \'_\', \' \'))')
COMPUTED = {
    "grant_request": [
        ("program_org_name", "FT_STRING", ORG_OF % "program_organization_id",
         "Name of the organization the request is for."),
        ("fiscal_org_name", "FT_STRING", ORG_OF % "fiscal_organization_id",
         "Name of the fiscal sponsor organization, when there is one."),
        ("program_name", "FT_STRING",
         '(SELECT p."name" FROM "program" p WHERE p."id" = $."program_id")',
         "Name of the program the request belongs to."),
        ("state_to_english", "FT_STRING", STATE_EN,
         "The workflow state in words: underscores become spaces, first letter capital."),
        ("amount_recommended_or_requested", "FT_DECIMAL",
         '(coalesce($."amount_recommended", $."amount_requested"))',
         "The recommended amount, or the requested amount while none is recommended."),
        ("amount_paids", "FT_DECIMAL",
         '(SELECT coalesce(sum(x."amount_paid"), 0) FROM "request_transaction" x WHERE '
         'x."request_id" = $."id" AND x."deleted_at" IS NULL)',
         "Total paid so far: the sum of amount_paid over the grant's live payments."),
        ("amount_dues", "FT_DECIMAL",
         '(SELECT coalesce(sum(x."amount_due"), 0) FROM "request_transaction" x WHERE '
         'x."request_id" = $."id" AND x."deleted_at" IS NULL AND '
         'coalesce(x."state", \'\') <> \'paid\')',
         "Total still due: the sum of amount_due over the grant's live payments not yet paid."),
        ("grant_ends_at", "FT_DATE",
         '(CASE WHEN $."grant_begins_at" IS NULL OR $."duration_in_months" IS NULL THEN NULL '
         'ELSE date($."grant_begins_at", \'unixepoch\', \'+\' || $."duration_in_months" || '
         '\' months\', \'-1 day\') END)',
         "Last day of the grant: the start date plus the duration in months, less one day."),
    ],
    "request_transaction": [
        ("request_org_name", "FT_STRING",
         '(SELECT o."name" FROM "grant_request" g JOIN "organization" o ON o."id" = '
         'g."program_organization_id" WHERE g."id" = $."request_id")',
         "Name of the organization of the grant this payment belongs to."),
        ("request_grant_id", "FT_STRING",
         '(SELECT g."base_request_id" FROM "grant_request" g WHERE g."id" = $."request_id")',
         "The grant's request identifier (base_request_id)."),
        ("state_to_english", "FT_STRING", STATE_EN,
         "The workflow state in words: underscores become spaces, first letter capital."),
    ],
    "organization": [
        ("state_to_english", "FT_STRING", STATE_EN,
         "The workflow state in words: underscores become spaces, first letter capital."),
    ],
}


# Computed members that read records of another class than their own (an organization's or
# a program's name): the policy hides them from roles that read only part of the records
# (FF_CROSS), since the record they read may be outside that part.
CROSS = {("grant_request", "program_org_name"), ("grant_request", "fiscal_org_name"),
         ("grant_request", "program_name"), ("request_transaction", "request_org_name")}


# Expressions whose SQLite text PostgreSQL does not speak, in PostgreSQL's words with the
# same results. grant_ends_at: SQLite's '+N months' keeps the day and lets it run over
# into the next month (Jan 31 + 1 month = Mar 2 or 3), so here too: the first of the start
# month, plus N months, plus the start day less one, less the one day.
EXPR_PG = {
    ("grant_request", "grant_ends_at"):
        '(CASE WHEN $."grant_begins_at" IS NULL OR $."duration_in_months" IS NULL THEN NULL '
        'ELSE to_char(date_trunc(\'month\', $."grant_begins_at" AT TIME ZONE '
        '\'UTC\') + make_interval(months => CAST($."duration_in_months" AS integer), days => '
        'CAST(extract(day FROM $."grant_begins_at" AT TIME ZONE \'UTC\') AS '
        'integer) - 2), \'YYYY-MM-DD\') END)',
}


def add_computed(out, computed):
    for c, rows in COMPUTED.items():
        have = {f.name for f in out[c]}
        for name, ftype, expr, desc in rows:
            assert name not in have, (c, name)
            f = Field(name, ftype)
            f.flags = {"FF_READONLY", "FF_GRANTEE_RO"}
            if (c, name) in CROSS:
                f.flags.add("FF_CROSS")
            f.scale = 4 if ftype == "FT_DECIMAL" else 0
            f.expr = expr
            f.expr_pg = EXPR_PG.get((c, name))
            f.desc = desc
            out[c].append(f)
        done = {r[0] for r in rows}
        computed[c] = [x for x in computed.get(c, []) if x[0] not in done]


class Field:
    def __init__(self, name, ftype):
        self.name = name
        self.type = ftype
        self.flags = set()
        self.target = None
        self.via = None
        self.scale = 0
        self.maxlen = 0
        self.enum = None
        self.desc = None
        self.readonly = False
        self.expr = None


def build(rows):
    seg_of = {r["model_class"]: r["path_segment"] for r in rows}
    catalogue = set(seg_of.values()) | set(CLASSES)
    by_class = {c: [r for r in rows if r["path_segment"] == c] for c in CLASSES}
    # A relation name's target when the whole catalogue agrees on one.
    seen = {}
    for r in rows:
        if r["kind"] == "relation" and r["plural"] == "no" and \
                r["data_type_or_related_class"] not in ("method", "CDT"):
            seen.setdefault(r["field"], set()).add(snake_of(r["data_type_or_related_class"],
                                                            seg_of))
    global_target = {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}

    def ref_target(c, name, crow):
        """Target class of `name` (ends in _id) in class c, or False when not a ref."""
        for key in ((c, name), ("*", name)):
            if key in REF_TARGETS:
                return REF_TARGETS[key] if REF_TARGETS[key] else False
        t = crow.get(name)
        if t and t not in ("method", "CDT"):
            return snake_of(t, seg_of)
        alias = crow.get(name[:-3])
        if alias and alias not in ("method", "CDT"):
            return snake_of(alias, seg_of)
        if name in global_target:
            return global_target[name]
        base = name[:-3]
        if base in catalogue:
            return base
        return False

    classes = {}
    computed = {}
    skipped = {}
    for c, crows in by_class.items():
        crows = [r for r in crows if IDENT.match(r["field"])]
        crow = {r["field"]: r["data_type_or_related_class"] for r in crows
                if r["kind"] == "relation" and r["plural"] == "no"}
        fields = {}
        computed[c] = sorted({(r["field"], r["kind"] + ("[]" if r["plural"] == "yes" else ""))
                              for r in crows if r["kind"] not in ("column", "relation")})
        skipped[c] = []
        # Columns.
        for r in crows:
            if r["kind"] != "column":
                continue
            name = r["field"]
            dt = TYPE_OVERRIDES.get((c, name), r["data_type_or_related_class"])
            if name == "state":
                dt = "string"
            f = Field(name, TYPE_OF[dt])
            if name.endswith("_id") and dt == "integer":
                t = ref_target(c, name, crow)
                if t is not False:
                    f.type, f.target = "FT_REF", t
            f.readonly = r["writable"] != "yes"
            fields[name] = f
        # Singular relations stored in a *_id column.
        for r in crows:
            name = r["field"]
            if r["kind"] != "relation" or r["plural"] != "no" or not name.endswith("_id"):
                continue
            t = ref_target(c, name, crow)
            f = fields.get(name) or Field(name, "FT_REF")
            f.type, f.target = "FT_REF", (t or None)
            f.readonly = f.readonly or r["writable"] != "yes"
            fields[name] = f
        # Fields every class has.
        for name in SERVER_FIELDS:
            f = fields.get(name) or Field(name, "FT_INT" if name == "id" else "FT_DATETIME")
            f.type = "FT_INT" if name == "id" else "FT_DATETIME"
            f.target = None
            f.flags |= {"FF_SERVER", "FF_READONLY"}
            fields[name] = f
        for name in ("created_by_id", "updated_by_id"):
            f = fields.get(name) or Field(name, "FT_REF")
            f.type, f.target, f.readonly = "FT_REF", "user", False
            f.flags.add("FF_ADMINSET")
            fields[name] = f
        # Singular relations without _id: aliases of their *_id column.
        aliases = {}
        for r in crows:
            name = r["field"]
            if r["kind"] != "relation" or r["plural"] != "no" or name.endswith("_id"):
                continue
            col = fields.get(name + "_id")
            if col is None or name in fields:
                skipped[c].append((name, r["data_type_or_related_class"], "no %s_id column"
                                   % name))
                continue
            if col.type != "FT_REF":
                t = r["data_type_or_related_class"]
                col.type = "FT_REF"
                col.target = snake_of(t, seg_of) if t not in ("method", "CDT") else None
            a = Field(name, "FT_REF_ALIAS")
            a.via, a.target = col.name, col.target
            aliases[name] = a
        classes[c] = dict(fields=fields, aliases=aliases, rows=crows)

    # Plural relations backed by a FK column of the target class.
    for c, info in classes.items():
        hm = {}
        for r in info["rows"]:
            name = r["field"]
            if r["kind"] != "relation" or r["plural"] != "yes":
                continue
            t = r["data_type_or_related_class"]
            if t in ("method", "CDT"):
                if name in PLURALS:
                    tgt = PLURALS[name]
                elif name.endswith("_ids"):
                    tgt = name[:-4]
                elif name.endswith("ies"):
                    tgt = name[:-3] + "y"
                elif name.endswith("s"):
                    tgt = name[:-1]
                else:
                    tgt = None
            else:
                tgt = snake_of(t, seg_of)
            if tgt not in classes:
                skipped[c].append((name, t, "target is not a grantd class"))
                continue
            tfields = classes[tgt]["fields"]
            if (c, name) in HAS_MANY:
                via = HAS_MANY[(c, name)]
                if via is None:
                    skipped[c].append((name, t, "not expressible as one foreign key"))
                    continue
                assert tfields[via].type == "FT_REF" and tfields[via].target == c, (c, name)
            else:
                # A read-only FK (model_document.organization_id) is derived by Fluxx from
                # another key; nothing in grantd fills it, so it cannot back a list.
                cands = [f.name for f in tfields.values() if f.type == "FT_REF" and
                         f.target == c and f.name not in AUDIT_REFS and not f.readonly]
                if len(cands) != 1:
                    skipped[c].append((name, t, "no single foreign key in %s (%s)" %
                                       (tgt, ", ".join(cands) or "none")))
                    continue
                via = cands[0]
            if name in info["fields"] or name in info["aliases"]:
                continue
            f = Field(name, "FT_HAS_MANY")
            f.target, f.via, f.readonly = tgt, via, True
            hm[name] = f
            log("%s.%s -> %s.%s" % (c, name, tgt, via))
        info["has_many"] = hm
    for c in sorted(skipped):
        for s in skipped[c]:
            log("skip %s.%s (%s): %s" % ((c,) + s))
    return classes, computed, skipped


def fulltext(c, f):
    if (c, f.name) in FT_ADD:
        return True
    if (c, f.name) in FT_REMOVE or f.type not in ("FT_STRING", "FT_TEXT"):
        return False
    if f.name.startswith(FT_EXCLUDE_PREFIX) or f.name == "state":
        return False
    toks = set(f.name.split("_"))
    if toks & FT_EXCLUDE_TOKENS:
        return False
    return bool(toks & FT_INCLUDE)


def grantee_ro(c, f):
    return (f.name == "state" or "amount" in f.name or f.type == "FT_REF" or
            (c, f.name) in GRANTEE_RO)


def finish(classes):
    """Flags, scales, lengths, enumerations; returns class -> ordered field list."""
    out = {}
    for c, info in classes.items():
        meta = CLASSES[c]
        for name in meta["required"] + meta["compact"] + \
                [n for n in MASKED.get(c, [])]:
            assert name in info["fields"], (c, name)
        fields = info["fields"]
        for f in fields.values():
            if f.readonly and "FF_ADMINSET" not in f.flags:
                f.flags.add("FF_READONLY")
            if SECRET_RE.match(f.name):
                f.flags.add("FF_SECRET")
            if f.name in MASKED.get(c, []):
                f.flags.add("FF_MASKED")
            if fulltext(c, f) and "FF_SECRET" not in f.flags and "FF_MASKED" not in f.flags:
                f.flags.add("FF_FULLTEXT")
            if f.type == "FT_DATETIME" and f.name in DATEONLY:
                f.flags.add("FF_DATEONLY")
            if f.name in meta["required"]:
                f.flags.add("FF_REQUIRED")
            if grantee_ro(c, f) and "FF_SERVER" not in f.flags:
                f.flags.add("FF_GRANTEE_RO")
            if (c, f.name) == ("user", "role"):
                f.flags.add("FF_ADMINSET")
            if f.name == "id" or f.name in meta["compact"]:
                f.flags.add("FF_COMPACT")
            elif "FF_SECRET" not in f.flags:
                f.flags.add("FF_DETAIL")
            if f.type == "FT_DECIMAL":
                f.scale = 8 if f.name.startswith("fx_rate") else 4
            if f.type == "FT_STRING":
                f.maxlen = MAXLEN.get((c, f.name), 255)
            if f.type == "FT_TEXT":
                f.maxlen = 65535
            f.enum = ENUMS.get((c, f.name))
        cols = sorted(fields.values(), key=lambda f: (f.name != "id", f.name))
        aliases = sorted(info["aliases"].values(), key=lambda f: f.name)
        hm = sorted(info["has_many"].values(), key=lambda f: f.name)
        for f in aliases + hm:
            f.flags.add("FF_GRANTEE_RO")
            if f.type == "FT_HAS_MANY":
                f.flags.add("FF_READONLY")
        lst = cols + aliases + hm
        names = [f.name for f in lst]
        assert len(names) == len(set(names)), c
        out[c] = lst
    return out

# ---------------------------------------------------------------------------------------
# Descriptions. Lookup order: CLASS_FIELD_DESC[(class, field)], FIELD_DESC[field] (may use
# {noun}), then the name patterns of describe(). Every sentence is ours.
# ---------------------------------------------------------------------------------------
TARGET_NOUN = {
    "fx_type": "exchange-rate type", "model_theme": "form theme", "segment": "segment",
    "segment_tag": "segment tag", "language": "language", "geo_county": "county",
    "geo_region": "region", "geo_place": "place", "fund_docket": "fund docket",
    "request_regrant": "regrant", "outcome": "outcome", "form_element": "form element",
    "matching_gift_profile": "matching-gift profile", "dashboard_theme": "dashboard theme",
    "model_document_master": "master document", "model_document_sub_type": "document subtype",
    "model_document_template": "document template", "model_document_type": "document type",
    "project": "project", "adhoc_report": "ad hoc report", "excel_report": "Excel report",
    "grantee_budget": "grantee budget", "loi": "letter of inquiry",
    "request_program": "request-program link", "request_review": "review",
}
PLURAL_NOUN = {"city": "cities", "state or province": "states or provinces",
               "sub-initiative": "sub-initiatives", "attribute choice": "attribute choices",
               "funding line": "funding lines", "payment funding line": "payment funding lines"}

FIELD_DESC = {
    # Server-maintained and audit fields.
    "id": "Unique id of this {noun}, assigned by the server.",
    "created_at": "When this {noun} was created (set by the server).",
    "updated_at": "When this {noun} was last changed (set by the server).",
    "deleted_at": "When this {noun} was soft-deleted; empty while it is live.",
    "created_by_id": "The user who created this {noun}; defaults to the caller, only an admin "
                     "may set another user.",
    "updated_by_id": "The user who last changed this {noun}; defaults to the caller, only an "
                     "admin may set another user.",
    "created_by": "The creating user as a one-element id array (same value as created_by_id).",
    "updated_by": "The last editing user as a one-element id array (same value as "
                  "updated_by_id).",
    "locked_by_id": "The user holding the edit lock on this {noun}, if any.",
    "locked_until": "When the current edit lock on this {noun} expires.",
    "migrate_id": "Key of this {noun} in the system it was imported from.",
    "migrate_source_name": "Name of the system this {noun} was imported from.",
    "ext_sync_id": "Key of this {noun} in an external system it is synchronised with.",
    "ext_sync_at": "When this {noun} was last synchronised with the external system.",
    "contig_id": "Legacy sequential reference number kept from an earlier system.",
    "delta": "Internal flag Fluxx used to mark the record for search re-indexing; kept for "
             "compatibility.",
    "is_temp_precreate": "Marks a placeholder {noun} created ahead of a form being completed.",
    "segment_id": "The segment (data partition for permissions) this {noun} belongs to.",
    "segment_tag_id": "The segment tag derived for this {noun}; read-only.",
    "segment": "The segment as a one-element id array (same value as segment_id).",
    "model_theme_id": "The form theme (layout and workflow variant) used for this {noun}.",
    "model_theme": "The form theme as a one-element id array (same value as model_theme_id).",
    "grant_request_model_theme_id": "The form theme of the related grant request, copied "
                                    "here for filtering; read-only.",
    "data_language_id": "The language the text of this {noun} is written in.",
    "state": "Current workflow state of this {noun}.",
    "name": "Name of this {noun}.",
    "description": "Longer description of this {noun}.",
    "retired": "Whether this {noun} is retired: kept for history but no longer offered for "
               "new records.",
    "exclude_from_mel": "Whether this {noun} is left out of monitoring, evaluation and "
                        "learning reports.",
    "sap_cost_centre": "Cost centre code of this {noun} in the SAP finance system.",
    "request_round": "Number of the funding round currently open for this {noun}.",
    "spending_year": "The budget year the money of this {noun} counts against.",
    "comment": "Free-text comment on this {noun}.",
    # Exchange rates (multi-currency support).
    "fx_type_id": "The exchange-rate type used to convert this {noun}'s amounts.",
    "fx_type": "The exchange-rate type as a one-element id array (same value as fx_type_id).",
    "fx_rate1": "Exchange rate from the local currency to the site currency.",
    "fx_rate2": "Exchange rate from the local currency to the second reporting currency.",
    "fx_date_1": "Date whose rate is used for the first currency conversion.",
    "fx_date_2": "Date whose rate is used for the second currency conversion.",
    "fx_applied_date_1": "Date the first exchange rate was actually applied.",
    "fx_applied_date_2": "Date the second exchange rate was actually applied.",
    "fx_spotrate_1": "Whether the first conversion uses the spot rate of the day.",
    "fx_spotrate_2": "Whether the second conversion uses the spot rate of the day.",
    "use_custom_fx_rate": "Whether a manually entered exchange rate overrides the site's "
                          "rate table.",
    # Copies of the grant's organization locations, kept for filtering.
    "fiscal_org_geo_country_id": "Country of the grant's fiscal organization, copied here "
                                 "for filtering.",
    "fiscal_org_geo_state_id": "State or province of the grant's fiscal organization, "
                               "copied here for filtering.",
    "program_org_geo_country_id": "Country of the grant's applicant organization, copied "
                                  "here for filtering.",
    "program_org_geo_state_id": "State or province of the grant's applicant organization, "
                                "copied here for filtering.",
    "related_request_fiscal_organization_id": "The fiscal organization of the grant this "
                                              "{noun} belongs to, copied for filtering.",
    "related_request_program_organization_id": "The applicant organization of the grant "
                                               "this {noun} belongs to, copied for filtering.",
    "related_grantee_user_id": "The grantee contact of the grant this {noun} belongs to, "
                               "copied for filtering.",
    # Funding hierarchy.
    "program_id": "The program this {noun} falls under.",
    "sub_program_id": "The sub-program this {noun} falls under.",
    "initiative_id": "The initiative this {noun} falls under.",
    "sub_initiative_id": "The sub-initiative this {noun} falls under.",
    "program": "The program as a one-element id array (same value as program_id).",
    "sub_program": "The sub-program as a one-element id array (same value as "
                   "sub_program_id).",
    "initiative": "The initiative as a one-element id array (same value as initiative_id).",
    "sub_initiative": "The sub-initiative as a one-element id array (same value as "
                      "sub_initiative_id).",
    "funding_source_allocation_id": "The funding source allocation this {noun} draws on.",
    "funding_source_allocation_program_id": "Program of the funding source allocation, "
                                            "copied here for filtering.",
    "funding_source_allocation_sub_program_id": "Sub-program of the funding source "
                                                "allocation, copied here for filtering.",
    "funding_source_allocation_initiative_id": "Initiative of the funding source allocation, "
                                               "copied here for filtering.",
    "funding_source_allocation_sub_initiative_id": "Sub-initiative of the funding source "
                                                   "allocation, copied here for filtering.",
    "request_id": "The grant request this {noun} belongs to.",
    "request": "The grant request as a one-element id array (same value as request_id).",
    # Sanctions screening (OFAC).
    "ofac_state": "Outcome of the latest sanctions-list (OFAC) screening of this {noun}.",
    "ofac_run_at": "When this {noun} was last screened against sanctions lists.",
    "ofac_run_id": "Id of the latest sanctions-screening run that covered this {noun}.",
    "ofac_result_id": "Id of the result of the latest sanctions screening of this {noun}.",
    "ofac_score": "Match score of the latest sanctions screening; higher means a closer hit.",
    # Addresses and contact details.
    "street_address": "First line of the street address.",
    "street_address2": "Second line of the street address.",
    "city": "City of the address.",
    "postal_code": "Postal or ZIP code of the address.",
    "geo_country_id": "The country of this {noun}'s address.",
    "geo_state_id": "The state or province of this {noun}'s address.",
    "geo_country": "The country as a one-element id array (same value as geo_country_id).",
    "geo_state": "The state or province as a one-element id array (same value as "
                 "geo_state_id).",
    "country_str": "Country written out as text, for addresses outside the reference list.",
    "state_str": "State or province written out as text, for addresses outside the "
                 "reference list.",
    "phone": "Main telephone number.",
    "fax": "Fax number.",
    "email": "Email address.",
    "blog_url": "Address of the blog.",
    "twitter_url": "Address of the Twitter/X profile.",
    "latitude": "Latitude of the location, in decimal degrees.",
    "longitude": "Longitude of the location, in decimal degrees.",
    "es_name": "Name in Spanish.",
    "ht_name": "Name in Haitian Creole.",
    "grant_summary_table": "Cached summary of this {noun}'s grants, as Fluxx renders it on "
                           "its card.",
    "dashboard_template_ids": "Serialized list of dashboard template ids offered to this "
                              "{noun}.",
    "lock_dashboard_manager": "Whether the dashboard layout is locked against changes.",
    "document_file_name": "File name of the attached document.",
    "end_at": "Last day this {noun} applies.",
    "start_at": "First day this {noun} applies.",
    "due_at": "Day this {noun} is due.",
    "amount": "Amount of money of this {noun}.",
    "amount_recommended": "Amount staff recommend granting.",
    "amount_requested": "Amount the applicant asked for.",
    "system_generated_denylist": "Whether the site's screening put this {noun} on the deny "
                                 "list automatically.",
    "active": "Whether this {noun} is in use.",
    "title": "Title of this {noun}.",
    "note": "Text of the note.",
    "report": "Short text of the report or a reference to it.",
    "organization_id": "The organization this {noun} relates to.",
    "organization": "The organization as a one-element id array (same value as "
                    "organization_id).",
    "user": "The user as a one-element id array (same value as user_id).",
    "workflow_events": "Ids of the workflow events recorded for this {noun} (matched on "
                       "their {via} column).",
}

CLASS_FIELD_DESC = {
    # user
    ("user", "role"): "grantd extension: the API role that decides what the user may do "
                      "(contract section 8); only an admin may change it.",
    ("user", "state"): "Account state: active users can sign in and own API clients, "
                       "passive ones cannot.",
    ("user", "name"): "Full name of the user.",
    ("user", "first_name"): "Given name of the user.",
    ("user", "last_name"): "Family name of the user.",
    ("user", "middle_initial"): "Initial of the user's middle name.",
    ("user", "prefix"): "Honorific written before the name (Dr., Ms.).",
    ("user", "salutation"): "Greeting to use in letters to the user.",
    ("user", "user_salutation"): "Salutation the user chose for themselves.",
    ("user", "email"): "Main email address of the user.",
    ("user", "login"): "Sign-in name of the user; unique on the site.",
    ("user", "active"): "Whether the account is enabled.",
    ("user", "approved"): "Whether staff have approved the account (for self-registered "
                          "grantee users).",
    ("user", "confirmed"): "Whether the user has confirmed their email address.",
    ("user", "inactive_flag"): "Marks a person who is no longer a current contact.",
    ("user", "do_not_email"): "Whether the site must not send email to this user.",
    ("user", "cookie_consent"): "Whether the user accepted the portal's cookies.",
    ("user", "connected_to_gs"): "Whether the user is linked to a GivingStreams account.",
    ("user", "assistant_name"): "Name of the user's assistant.",
    ("user", "assistant_email"): "Email address of the user's assistant.",
    ("user", "assistant_phone"): "Telephone number of the user's assistant.",
    ("user", "birth_at"): "Date of birth of the user.",
    ("user", "facebook_url"): "Address of the user's Facebook profile.",
    ("user", "linkedin_url"): "Address of the user's LinkedIn profile.",
    ("user", "twitter_url"): "Address of the user's Twitter/X profile.",
    ("user", "blog_url"): "Address of the user's blog.",
    ("user", "country_str"): "Country of the user written out as text.",
    ("user", "state_str"): "State or province of the user written out as text.",
    ("user", "dashboard_settings"): "Serialized settings of the user's dashboard.",
    ("user", "dashboard_type"): "Kind of dashboard the user sees on sign-in.",
    ("user", "employee_hired_at"): "Day the staff member was hired.",
    ("user", "employee_retired_at"): "Day the staff member retired.",
    ("user", "employee_terminated_at"): "Day the staff member's employment ended.",
    ("user", "failed_password_update_count"): "Number of failed attempts to change the "
                                              "password in a row.",
    ("user", "last_failed_password_update_at"): "When the last failed attempt to change the "
                                                "password happened.",
    ("user", "password_reset_at"): "When the password was last reset.",
    ("user", "last_login_at"): "When the user last signed in.",
    ("user", "last_request_at"): "When the user last made a request to the site.",
    ("user", "mailchimp_leid"): "The user's subscriber id in Mailchimp.",
    ("user", "matching_gift_profile_id"): "The matching-gift profile that applies to the "
                                          "user's donations.",
    ("user", "matching_gift_profile"): "The matching-gift profile as a one-element id array "
                                       "(same value as matching_gift_profile_id).",
    ("user", "mfa_configuration_confirmed_at"): "When the user confirmed their second-factor "
                                                "set-up; secret.",
    ("user", "mfa_country_code"): "Telephone country code for second-factor codes; secret.",
    ("user", "mfa_otp_key"): "Shared key of the user's one-time-password generator; secret.",
    ("user", "mfa_phone"): "Telephone number that receives second-factor codes; secret.",
    ("user", "mfa_sms_token"): "Last second-factor code sent by text message; secret.",
    ("user", "mfa_strategy"): "Which second-factor method the user uses; secret.",
    ("user", "skip_mfa"): "Whether the user is exempt from the second sign-in factor.",
    ("user", "sso_uid"): "The user's subject id at the single-sign-on identity provider.",
    ("user", "other_contact"): "Other ways to reach the user, as free text.",
    ("user", "personal_city"): "City of the user's home address.",
    ("user", "personal_email"): "Personal email address of the user.",
    ("user", "personal_fax"): "Personal fax number of the user.",
    ("user", "personal_mobile"): "Mobile telephone number of the user.",
    ("user", "personal_phone"): "Home telephone number of the user.",
    ("user", "personal_postal_code"): "Postal code of the user's home address.",
    ("user", "personal_street_address"): "First line of the user's home street address.",
    ("user", "personal_street_address2"): "Second line of the user's home street address.",
    ("user", "personal_geo_country_id"): "Country of the user's home address.",
    ("user", "personal_geo_county_id"): "County of the user's home address.",
    ("user", "personal_geo_state_id"): "State or province of the user's home address.",
    ("user", "geo_country_id"): "Country of the user's primary organization; read-only.",
    ("user", "geo_state_id"): "State or province of the user's primary organization; "
                              "read-only.",
    ("user", "organization_id"): "An organization the user is attached to directly.",
    ("user", "primary_organization_id"): "The organization the user mainly represents.",
    ("user", "primary_user_organization_id"): "The affiliation that links the user to their "
                                              "primary organization.",
    ("user", "language_id"): "The language the user reads the site in.",
    ("user", "user_profile_id"): "The permission profile assigned to the user.",
    ("user", "signal_following_email_alert"): "Whether the user gets email about activity "
                                              "on records they follow.",
    ("user", "signal_mention_email_alert"): "Whether the user gets email when someone "
                                            "mentions them.",
    ("user", "work_extension"): "Extension of the user's work telephone.",
    ("user", "work_fax"): "Work fax number of the user.",
    ("user", "work_phone"): "Work telephone number of the user.",
    ("user", "grant_summary_table"): "Cached summary of the grants the user is involved in.",
    ("user", "program_id"): "The program a staff user mainly works in.",
    ("user", "sub_program_id"): "The sub-program a staff user mainly works in.",
    ("user", "initiative_id"): "The initiative a staff user mainly works in.",
    ("user", "sub_initiative_id"): "The sub-initiative a staff user mainly works in.",
    ("user", "bank_accounts"): "Ids of the bank accounts owned by this user.",
    ("user", "program_lead_requests"): "Ids of the grant requests this user leads as program "
                                       "officer.",
    ("user", "user_organization_ids"): "Ids of the user's affiliations with organizations.",
    # user_profile
    ("user_profile", "name"): "Name of the profile.",
    ("user_profile", "categories"): "Serialized list of the profile's categories (employee, "
                                    "grantee, reviewer...).",
    ("user_profile", "cloned_user_profile_id"): "The profile this one was copied from.",
    ("user_profile", "cloned_user_profile"): "The profile this one was copied from, as a "
                                             "one-element id array.",
    ("user_profile", "dashboard_config"): "Serialized default dashboard of the profile.",
    ("user_profile", "dashboard_theme_id"): "The dashboard theme users of the profile get.",
    ("user_profile", "dashboard_theme"): "The dashboard theme as a one-element id array "
                                         "(same value as dashboard_theme_id).",
    ("user_profile", "disable_workflow_notes"): "Whether users of the profile skip the note "
                                                "prompt on workflow steps.",
    ("user_profile", "hide_universal_search"): "Whether the site-wide search box is hidden "
                                               "from users of the profile.",
    ("user_profile", "lock_dashboard_manager"): "Whether users of the profile may not "
                                                "rearrange their dashboards.",
    ("user_profile", "must_segment"): "Whether users of the profile only see records of "
                                      "their segments.",
    ("user_profile", "users"): "Ids of the users assigned this profile.",
    # organization
    ("organization", "name"): "Name the organization is known by.",
    ("organization", "legal_name"): "Registered legal name of the organization.",
    ("organization", "name_foreign_language"): "Name of the organization in its own "
                                               "language.",
    ("organization", "sort_as_name"): "Name used to sort the organization in lists.",
    ("organization", "acronym"): "Short form of the organization's name.",
    ("organization", "state"): "Vetting state of the organization.",
    ("organization", "email"): "Main email address of the organization.",
    ("organization", "phone_extension"): "Extension of the main telephone number.",
    ("organization", "url"): "Address of the organization's web site.",
    ("organization", "other_contact"): "Other ways to reach the organization, as free text.",
    ("organization", "tax_id"): "Tax identification number (EIN in the United States).",
    ("organization", "tax_notes"): "Free-text notes about the organization's tax status.",
    ("organization", "tax_period"): "Last day of the tax period of the latest filing on "
                                    "record.",
    ("organization", "tax_registration_date"): "Day the organization was registered for tax.",
    ("organization", "deductibility"): "How donations to the organization are treated for "
                                       "tax.",
    ("organization", "foundation"): "Private-foundation status of the organization.",
    ("organization", "subsection"): "IRS subsection code of the organization (501(c)(3)...).",
    ("organization", "duns_number"): "The organization's D-U-N-S number.",
    ("organization", "vendor_number"): "The organization's vendor number in the finance "
                                       "system.",
    ("organization", "deny_list_overridden"): "Whether staff cleared the organization despite "
                                              "a deny-list hit.",
    ("organization", "c3_checked_at"): "Day the 501(c)(3) status was last checked.",
    ("organization", "c3_status_approved"): "Whether the 501(c)(3) status check passed.",
    ("organization", "c3_status_checked"): "Whether the 501(c)(3) status has been checked.",
    ("organization", "cc_checked_at"): "Day the charity-check service last verified the "
                                       "organization.",
    ("organization", "cc_checked_by"): "Id of the user who ran the last charity check.",
    ("organization", "cc_charity_check_last_modified"): "Last-modified stamp of the "
                                                        "charity-check data.",
    ("organization", "cc_legal_name"): "Legal name reported by the charity-check service.",
    ("organization", "cc_organization_name"): "Organization name reported by the "
                                              "charity-check service.",
    ("organization", "cc_affiliation_code"): "IRS affiliation code reported by the "
                                             "charity-check service.",
    ("organization", "cc_affiliation_code_description"): "Meaning of the IRS affiliation code.",
    ("organization", "cc_bmf_status"): "Status in the IRS Business Master File, per the "
                                       "charity check.",
    ("organization", "cc_bmf_subsection"): "Subsection in the IRS Business Master File, per "
                                           "the charity check.",
    ("organization", "cc_deductibility_code"): "IRS deductibility code, per the charity "
                                               "check.",
    ("organization", "cc_deductibility_code_description"): "Meaning of the IRS "
                                                           "deductibility code.",
    ("organization", "cc_foundation_509a_status"): "509(a) public-charity status, per the "
                                                   "charity check.",
    ("organization", "cc_foundation_code"): "IRS foundation code, per the charity check.",
    ("organization", "cc_foundation_code_description"): "Meaning of the IRS foundation code.",
    ("organization", "cc_foundation_type_code"): "IRS foundation type code, per the charity "
                                                 "check.",
    ("organization", "cc_organization_ntee_codes"): "NTEE activity codes, per the charity "
                                                    "check.",
    ("organization", "cc_pub78_verified"): "Whether the organization appears in IRS "
                                           "Publication 78, per the charity check.",
    ("organization", "cc_reinstatement_date"): "Date the tax exemption was reinstated, per "
                                               "the charity check.",
    ("organization", "cc_revocation_code"): "Code of a revoked tax exemption, per the charity "
                                            "check.",
    ("organization", "cc_revocation_date"): "Date the tax exemption was revoked, per the "
                                            "charity check.",
    ("organization", "cc_ruling_year"): "Year of the IRS exemption ruling, per the charity "
                                        "check.",
    ("organization", "cc_subsection_description"): "Meaning of the IRS subsection, per the "
                                                   "charity check.",
    ("organization", "geo_county_id"): "County of the organization's address.",
    ("organization", "geo_place_id"): "The place (reference location) of the organization.",
    ("organization", "parent_org_id"): "The headquarters organization this one is a "
                                       "satellite of.",
    ("organization", "primary_user_id"): "The person who is the organization's main contact.",
    ("organization", "primary_user_organization_id"): "The affiliation of the organization's "
                                                      "main contact.",
    ("organization", "primary_user_organization"): "The main contact's affiliation as a "
                                                   "one-element id array.",
    ("organization", "program_id"): "The program the organization is mainly associated with.",
    ("organization", "bank_accounts"): "Ids of the bank accounts owned by the organization.",
    ("organization", "grant_requests"): "Ids of the grant requests the organization applied "
                                        "for.",
    ("organization", "request_ids"): "Ids of the grant requests the organization applied for "
                                     "(same list as grant_requests).",
    ("organization", "fiscal_requests"): "Ids of the grant requests for which the "
                                         "organization acts as fiscal sponsor.",
    ("organization", "satellite_org_ids"): "Ids of the satellite organizations whose "
                                           "headquarters this is.",
    ("organization", "user_organizations"): "Ids of the affiliations of people with this "
                                            "organization.",
    # user_organization
    ("user_organization", "user_id"): "The person of this affiliation.",
    ("user_organization", "organization_id"): "The organization of this affiliation.",
    ("user_organization", "title"): "Job title of the person at the organization.",
    ("user_organization", "department"): "Department the person works in.",
    ("user_organization", "email"): "Work email address of the person at this organization.",
    ("user_organization", "phone"): "Work telephone number of the person at this "
                                    "organization.",
    ("user_organization", "archived"): "Whether the affiliation is over and kept for history "
                                       "only.",
    ("user_organization", "can_edit"): "Whether the person may edit the organization's "
                                       "details in the grantee portal.",
    ("user_organization", "hide_from_portal_user"): "Whether the affiliation is hidden in "
                                                    "the grantee portal.",
    ("user_organization", "start_at"): "Day the person joined the organization.",
    ("user_organization", "end_at"): "Day the person left the organization.",
    ("user_organization", "principal_entity_type"): "Class of the record this affiliation is "
                                                    "mainly about, when not the organization.",
    ("user_organization", "principal_entity_id"): "Id of the record named by "
                                                  "principal_entity_type.",
    ("user_organization", "primary_user_organizations_orgs"): "Ids of the organizations that "
                                                              "name this affiliation as their "
                                                              "main contact.",
    ("user_organization", "primary_user_organizations_users"): "Ids of the users that name "
                                                               "this affiliation as their "
                                                               "primary one.",
    # program hierarchy
    ("program", "config"): "Serialized program settings.",
    ("program", "parent_id"): "The parent program, when programs are nested.",
    ("program", "children_programs"): "Ids of the programs nested under this one.",
    ("program", "sub_program_ids"): "Ids of the program's sub-programs.",
    ("program", "sub_programs"): "Ids of the program's sub-programs (same list as "
                                 "sub_program_ids).",
    ("sub_program", "program_id"): "The program this sub-program belongs to.",
    ("sub_program", "initiatives"): "Ids of the initiatives under this sub-program.",
    ("initiative", "program_id"): "The program this initiative belongs to.",
    ("initiative", "sub_program_id"): "The sub-program this initiative belongs to.",
    ("initiative", "sub_initiative_ids"): "Ids of the initiative's sub-initiatives.",
    ("initiative", "sub_initiatives"): "Ids of the initiative's sub-initiatives (same list as "
                                       "sub_initiative_ids).",
    ("sub_initiative", "initiative_id"): "The initiative this sub-initiative belongs to.",
    ("sub_initiative", "program_id"): "The program above this sub-initiative.",
    ("sub_initiative", "sub_program_id"): "The sub-program above this sub-initiative.",
    # grant_request
    ("grant_request", "state"): "Workflow state of the request (see docs/workflows.md).",
    ("grant_request", "base_request_id"): "Human-readable request number shown to staff and "
                                          "grantees.",
    ("grant_request", "program_organization_id"): "The organization applying for the grant.",
    ("grant_request", "fiscal_organization_id"): "The organization that receives and manages "
                                                 "the money for the applicant, if any.",
    ("grant_request", "program_id"): "The program the request is filed under.",
    ("grant_request", "program_lead_id"): "The program officer responsible for the request.",
    ("grant_request", "secondary_program_lead_id"): "A second program officer who shares "
                                                    "responsibility for the request.",
    ("grant_request", "grantee_user_id"): "The main contact person at the applicant.",
    ("grant_request", "grantee_org_owner_id"): "The person at the applicant who owns the "
                                               "request.",
    ("grant_request", "grantee_signatory_id"): "The person who signs the grant agreement for "
                                               "the applicant.",
    ("grant_request", "fiscal_org_owner_id"): "The contact person at the fiscal organization.",
    ("grant_request", "fiscal_signatory_id"): "The person who signs for the fiscal "
                                              "organization.",
    ("grant_request", "donated_by_id"): "The user who made the donation recorded on this "
                                        "request.",
    ("grant_request", "related_user1_id"): "First additional person linked to the request "
                                           "(meaning set by the site).",
    ("grant_request", "related_user2_id"): "Second additional person linked to the request "
                                           "(meaning set by the site).",
    ("grant_request", "related_user3_id"): "Third additional person linked to the request "
                                           "(meaning set by the site).",
    ("grant_request", "outcome_id"): "The intended outcome the request contributes to.",
    ("grant_request", "fund_docket_id"): "The fund docket (board batch) the request is "
                                         "presented in.",
    ("grant_request", "fund_docket"): "The fund docket as a one-element id array (same value "
                                      "as fund_docket_id).",
    ("grant_request", "amount_requested"): "Amount the applicant asked for.",
    ("grant_request", "amount_recommended"): "Amount staff recommend, and once granted the "
                                             "amount awarded.",
    ("grant_request", "amount_recommended_cpi_adjusted"): "Recommended amount adjusted for "
                                                          "inflation (consumer price index).",
    ("grant_request", "donated_amount"): "Amount donated through this request (donor-advised "
                                         "giving).",
    ("grant_request", "donated_at"): "Day the donation was made.",
    ("grant_request", "donated_hours"): "Volunteer hours donated through this request.",
    ("grant_request", "funds_expended_amount"): "Amount the grantee reports having spent.",
    ("grant_request", "funds_expended_at"): "Day up to which the spent amount is reported.",
    ("grant_request", "board_authorization_required"): "Whether the board must authorise the "
                                                       "grant.",
    ("grant_request", "display_warnings"): "Whether warnings are shown on the request's card.",
    ("grant_request", "duration_in_months"): "Length of the grant period in months.",
    ("grant_request", "extension_flag"): "Whether the grant period has been extended.",
    ("grant_request", "funding_general_operating_support"): "Whether the grant funds general "
                                                            "operations rather than a project.",
    ("grant_request", "granted"): "Whether the request has been promoted to a grant; set by "
                                  "the workflow.",
    ("grant_request", "grant_agreement_at"): "Day the grant agreement was signed.",
    ("grant_request", "grant_approved_at"): "Day the grant was approved.",
    ("grant_request", "grant_begins_at"): "First day of the grant period.",
    ("grant_request", "grant_closed_at"): "Day the grant was closed out.",
    ("grant_request", "request_received_at"): "Day the request was received.",
    ("grant_request", "grantee_budget_config"): "Serialized budget template the grantee fills "
                                                "in.",
    ("grant_request", "is_grantee_a_person"): "Whether the grantee is an individual rather "
                                              "than an organization.",
    ("grant_request", "multi_year"): "Whether the grant spans several budget years.",
    ("grant_request", "renewal_grant"): "Whether the request renews an earlier grant.",
    ("grant_request", "po_number"): "Purchase-order number of the grant in the finance system.",
    ("grant_request", "project_summary"): "Summary of the project the request would fund.",
    ("grant_request", "project_summary_native"): "Project summary in the applicant's own "
                                                 "language.",
    ("grant_request", "project_summary_native_updated"): "Whether the native-language summary "
                                                         "changed since it was translated.",
    ("grant_request", "request_type_identifier"): "Code of the request type (site-defined).",
    ("grant_request", "skip_hgrant_flag"): "Whether the grant is left out of the public "
                                           "grants feed.",
    ("grant_request", "spending_year"): "The budget year the grant counts against.",
    ("grant_request", "type"): "Record subtype: GrantRequest, or a site-specific variant.",
    ("grant_request", "fip_consultant_name"): "Name of the consultant on a fellowship or "
                                              "individual project (FIP).",
    ("grant_request", "fip_projected_end_at"): "Projected end day of the fellowship or "
                                               "individual project.",
    ("grant_request", "fip_title"): "Title of the fellowship or individual project.",
    ("grant_request", "fip_title_native"): "Project title in the applicant's own language.",
    ("grant_request", "fip_title_native_updated"): "Whether the native-language title changed "
                                                   "since it was translated.",
    ("grant_request", "gs_grant_ends_at"): "End day of the grant as published to "
                                           "GivingStreams.",
    ("grant_request", "gs_project_name"): "Project name as published to GivingStreams.",
    ("grant_request", "ierf_budget_end_at"): "End day of the budget in the internal "
                                             "evaluation form.",
    ("grant_request", "ierf_due_diligence_board_review"): "Due-diligence notes on the "
                                                          "applicant's board review.",
    ("grant_request", "ierf_due_diligence_noc4_work"): "Due-diligence notes on the work "
                                                       "described in the application.",
    ("grant_request", "ierf_due_diligence_overlap"): "Due-diligence notes on overlap with "
                                                     "other funding.",
    ("grant_request", "ierf_due_diligence_risks"): "Due-diligence notes on the risks of the "
                                                   "grant.",
    ("grant_request", "ierf_goals"): "Goals of the grant as stated in the internal evaluation.",
    ("grant_request", "ierf_probability"): "Staff's estimate of how likely the goals are met.",
    ("grant_request", "ierf_proposed_end_at"): "Proposed end day in the internal evaluation.",
    ("grant_request", "ierf_tactics"): "How the grantee plans to reach the goals, per the "
                                       "internal evaluation.",
    ("grant_request", "budget_requests"): "Ids of the request's budget lines.",
    ("grant_request", "request_amendment_ids"): "Ids of the grant's amendments.",
    ("grant_request", "request_amendments"): "Ids of the grant's amendments (same list as "
                                             "request_amendment_ids).",
    ("grant_request", "request_funding_sources"): "Ids of the request's funding lines.",
    ("grant_request", "request_report_ids"): "Ids of the reports owed on the grant.",
    ("grant_request", "request_transaction_ids"): "Ids of the grant's payments.",
    # request_transaction
    ("request_transaction", "state"): "Payment state (see docs/workflows.md).",
    ("request_transaction", "request_id"): "The grant this payment belongs to.",
    ("request_transaction", "amount_due"): "Amount scheduled to be paid.",
    ("request_transaction", "amount_paid"): "Amount actually paid.",
    ("request_transaction", "due_at"): "Day the payment is scheduled for.",
    ("request_transaction", "paid_at"): "Day the payment was made.",
    ("request_transaction", "comment"): "Free-text comment on the payment.",
    ("request_transaction", "condition"): "Conditions the grantee must meet before the "
                                          "payment is released.",
    ("request_transaction", "bank_account_id"): "The bank account the payment goes to.",
    ("request_transaction", "from_bank_account_id"): "The foundation's bank account the "
                                                     "payment is made from.",
    ("request_transaction", "organization_payee_id"): "The organization that receives the "
                                                      "payment, when not the grantee.",
    ("request_transaction", "user_payee_id"): "The person who receives the payment, for "
                                              "grants to individuals.",
    ("request_transaction", "payment_recorded_by_id"): "The user who recorded the payment as "
                                                       "made.",
    ("request_transaction", "payment_confirmation_number"): "Reference number of the payment "
                                                            "from the bank or finance system.",
    ("request_transaction", "payment_type"): "How the payment is made (check, wire...).",
    ("request_transaction", "program_lead_id"): "The program officer of the grant, copied for "
                                                "filtering; read-only.",
    ("request_transaction", "request_document_linked_to"): "Name of the grant document the "
                                                           "payment is tied to.",
    ("request_transaction", "spending_year"): "The budget year the payment counts against.",
    ("request_transaction", "grant_model_theme_id"): "The form theme of the grant, copied for "
                                                     "filtering; read-only.",
    ("request_transaction", "request_transaction_funding_source_ids"): "Ids of the payment's "
                                                                      "funding lines.",
    # request_report
    ("request_report", "state"): "Review state of the report (see docs/workflows.md).",
    ("request_report", "request_id"): "The grant the report is owed on.",
    ("request_report", "report_type"): "Kind of report (interim, final, financial...).",
    ("request_report", "due_at"): "Day the report is due.",
    ("request_report", "approved_at"): "When the report was approved.",
    ("request_report", "approved_by_user_id"): "The user who approved the report.",
    ("request_report", "evaluation_rating"): "Rating staff gave the report.",
    ("request_report", "grantee_progress_report_period"): "Number of the reporting period "
                                                          "the report covers.",
    ("request_report", "grantee_progress_report_sub_period"): "Number of the sub-period the "
                                                              "report covers.",
    ("request_report", "report"): "Short text of the report or a reference to it.",
    # request_amendment
    ("request_amendment", "state"): "Approval state of the amendment.",
    ("request_amendment", "request_id"): "The grant being amended.",
    ("request_amendment", "amended_at"): "Day the amendment takes effect.",
    ("request_amendment", "amount_recommended"): "New awarded amount after the amendment.",
    ("request_amendment", "old_amount_recommended"): "Awarded amount before the amendment.",
    ("request_amendment", "duration"): "New grant length in months.",
    ("request_amendment", "old_duration"): "Grant length in months before the amendment.",
    ("request_amendment", "start_date"): "New first day of the grant period.",
    ("request_amendment", "old_start_date"): "First day of the grant period before the "
                                             "amendment.",
    ("request_amendment", "end_date"): "New last day of the grant period.",
    ("request_amendment", "old_end_date"): "Last day of the grant period before the "
                                           "amendment.",
    ("request_amendment", "new_extra_column"): "New value of a site-chosen extra field.",
    ("request_amendment", "old_extra_column"): "Value of the site-chosen extra field before "
                                               "the amendment.",
    ("request_amendment", "note"): "Explanation of the amendment.",
    ("request_amendment", "original"): "Whether this row records the grant's original terms "
                                       "rather than a change.",
    ("request_amendment", "request_type"): "Kind of amendment (amount, duration...).",
    ("request_amendment", "program_id"): "The program of the grant, copied for filtering.",
    ("request_amendment", "sub_program_id"): "The sub-program of the grant, copied for "
                                             "filtering.",
    ("request_amendment", "initiative_id"): "The initiative of the grant, copied for "
                                            "filtering.",
    ("request_amendment", "sub_initiative_id"): "The sub-initiative of the grant, copied for "
                                                "filtering.",
    # budget_request
    ("budget_request", "name"): "Name of the budget line.",
    ("budget_request", "request_id"): "The grant request the budget line belongs to.",
    ("budget_request", "amount_requested"): "Amount the applicant asks for this budget line.",
    ("budget_request", "amount_recommended"): "Amount staff recommend for this budget line.",
    # bank_account
    ("bank_account", "account_name"): "Name the account is held under.",
    ("bank_account", "account_number"): "Account number; masked except to admin and "
                                        "super_user.",
    ("bank_account", "active"): "Whether payments may be sent to this account.",
    ("bank_account", "state"): "Verification state of the account.",
    ("bank_account", "bank_code"): "Bank or sort code; masked except to admin and super_user.",
    ("bank_account", "bank_contact_name"): "Contact person at the bank.",
    ("bank_account", "bank_contact_phone"): "Telephone number of the contact at the bank.",
    ("bank_account", "bank_name"): "Name of the bank.",
    ("bank_account", "contig_id"): "Legacy numeric reference kept from an earlier system.",
    ("bank_account", "domestic_special_wire_instructions"): "Extra instructions for domestic "
                                                            "wire transfers.",
    ("bank_account", "domestic_wire_aba_routing"): "ABA routing number for domestic wires; "
                                                   "masked except to admin and super_user.",
    ("bank_account", "foreign_special_wire_instructions"): "Extra instructions for "
                                                           "international wire transfers.",
    ("bank_account", "foreign_wire_beneficiary_bank_swift"): "SWIFT/BIC code of the "
                                                             "receiving bank; masked.",
    ("bank_account", "foreign_wire_intermediary_bank_name"): "Name of the intermediary bank "
                                                             "for international wires.",
    ("bank_account", "foreign_wire_intermediary_bank_swift"): "SWIFT/BIC code of the "
                                                              "intermediary bank; masked.",
    ("bank_account", "intermediary_account_name"): "Name of the account at the intermediary "
                                                   "bank.",
    ("bank_account", "intermediary_account_number"): "Account number at the intermediary "
                                                     "bank; masked.",
    ("bank_account", "intermediary_bank_code"): "Bank code of the intermediary bank; masked.",
    ("bank_account", "intermediary_bank_contact_name"): "Contact person at the intermediary "
                                                        "bank.",
    ("bank_account", "intermediary_bank_contact_phone"): "Telephone number of the contact at "
                                                         "the intermediary bank.",
    ("bank_account", "intermediary_bank_name"): "Name of the intermediary bank.",
    ("bank_account", "intermediary_city"): "City of the intermediary bank.",
    ("bank_account", "intermediary_fax"): "Fax number of the intermediary bank.",
    ("bank_account", "intermediary_geo_country_id"): "Country of the intermediary bank.",
    ("bank_account", "intermediary_geo_state_id"): "State or province of the intermediary "
                                                   "bank.",
    ("bank_account", "intermediary_geo_country"): "Country of the intermediary bank as a "
                                                  "one-element id array.",
    ("bank_account", "intermediary_geo_state"): "State or province of the intermediary bank "
                                                "as a one-element id array.",
    ("bank_account", "intermediary_phone"): "Telephone number of the intermediary bank.",
    ("bank_account", "intermediary_postal_code"): "Postal code of the intermediary bank.",
    ("bank_account", "intermediary_special_instructions"): "Extra instructions for the "
                                                           "intermediary bank.",
    ("bank_account", "intermediary_street_address"): "First address line of the intermediary "
                                                     "bank.",
    ("bank_account", "intermediary_street_address2"): "Second address line of the "
                                                      "intermediary bank.",
    ("bank_account", "owner_organization_id"): "The organization that owns the account.",
    ("bank_account", "owner_user_id"): "The person who owns the account, for payments to "
                                       "individuals.",
    ("bank_account", "special_instructions"): "Extra payment instructions for this account.",
    ("bank_account", "wire_transfer_number"): "Number used for wire transfers to the account; "
                                              "masked.",
    ("bank_account", "street_address"): "First line of the bank's street address.",
    ("bank_account", "street_address2"): "Second line of the bank's street address.",
    ("bank_account", "city"): "City of the bank.",
    ("bank_account", "phone"): "Telephone number of the bank.",
    ("bank_account", "fax"): "Fax number of the bank.",
    ("bank_account", "postal_code"): "Postal code of the bank.",
    ("bank_account", "country_str"): "Country of the bank written out as text.",
    ("bank_account", "state_str"): "State or province of the bank written out as text.",
    ("bank_account", "geo_country_id"): "Country of the bank.",
    ("bank_account", "geo_state_id"): "State or province of the bank.",
    # fund
    ("fund", "balance"): "Money available in the fund.",
    ("fund", "illiquid_balance"): "Part of the balance held in assets that cannot be paid out "
                                  "quickly.",
    ("fund", "can_be_over_allocated"): "Whether grants may be charged beyond the balance.",
    ("fund", "is_invested"): "Whether the fund's money is invested.",
    ("fund", "opened_at"): "Day the fund was opened.",
    ("fund", "closed_at"): "Day the fund was closed.",
    ("fund", "state"): "Life-cycle state of the fund.",
    # funding_source
    ("funding_source", "account_group"): "Account group of the source in the finance system.",
    ("funding_source", "amount"): "Total amount the source provides.",
    ("funding_source", "amount_budgeted"): "Amount budgeted from the source.",
    ("funding_source", "amount_requested"): "Amount asked of the source.",
    ("funding_source", "calculated_amount_spent"): "Amount already spent from the source, as "
                                                   "last calculated.",
    ("funding_source", "company_code"): "Company code of the source in the finance system.",
    ("funding_source", "end_at"): "Last day the source can fund grants.",
    ("funding_source", "start_at"): "First day the source can fund grants.",
    ("funding_source", "fund_closing_date"): "Day the underlying fund closes.",
    ("funding_source", "fund_opening_date"): "Day the underlying fund opened.",
    ("funding_source", "geographic_restrictions"): "Where the money may be spent, as free "
                                                   "text.",
    ("funding_source", "gst_exempt"): "Whether the source is exempt from goods and services "
                                      "tax.",
    ("funding_source", "liability_account"): "Liability account of the source in the "
                                             "finance system.",
    ("funding_source", "narrative_lead_user_id"): "The user who writes the narrative reports "
                                                  "for the source.",
    ("funding_source", "net_available_to_spend_amount"): "Amount still free to commit.",
    ("funding_source", "overhead_amount"): "Part of the amount kept for overhead.",
    ("funding_source", "payment_method"): "How money from the source is paid out.",
    ("funding_source", "probability"): "How likely the money is to arrive, for pledged "
                                       "sources.",
    ("funding_source", "reconciliation_account"): "Reconciliation account of the source in "
                                                  "the finance system.",
    ("funding_source", "report_date_at"): "Day the source's next report is due.",
    ("funding_source", "restricted_funds"): "Whether the money is restricted to particular "
                                            "purposes.",
    ("funding_source", "sap_account_number"): "Account number of the source in SAP.",
    ("funding_source", "state"): "Life-cycle state of the funding source.",
    ("funding_source", "funding_source_allocations"): "Ids of the allocations made from this "
                                                      "source.",
    # funding_source_allocation
    ("funding_source_allocation", "amount"): "Amount allocated.",
    ("funding_source_allocation", "actual_budget_amount"): "Budget amount actually available "
                                                           "after adjustments.",
    ("funding_source_allocation", "budget_amount"): "Budget amount planned for the "
                                                    "allocation.",
    ("funding_source_allocation", "etl_amount_granted"): "Amount already granted from the "
                                                         "allocation (computed by a batch "
                                                         "job).",
    ("funding_source_allocation", "etl_amount_paid"): "Amount already paid from the "
                                                      "allocation (computed by a batch job).",
    ("funding_source_allocation", "etl_amount_pipeline"): "Amount of pending requests on the "
                                                          "allocation (computed by a batch "
                                                          "job).",
    ("funding_source_allocation", "etl_amount_unpaid"): "Amount granted but not yet paid "
                                                        "(computed by a batch job).",
    ("funding_source_allocation", "etl_num_granted"): "Number of grants charged to the "
                                                      "allocation (computed by a batch job).",
    ("funding_source_allocation", "etl_num_pipeline"): "Number of pending requests on the "
                                                       "allocation (computed by a batch job).",
    ("funding_source_allocation", "fund_id"): "The fund the allocation belongs to.",
    ("funding_source_allocation", "funding_source_id"): "The funding source the money comes "
                                                        "from.",
    ("funding_source_allocation", "program_id"): "The program the money is set aside for.",
    ("funding_source_allocation", "sub_program_id"): "The sub-program the money is set aside "
                                                     "for.",
    ("funding_source_allocation", "initiative_id"): "The initiative the money is set aside "
                                                    "for.",
    ("funding_source_allocation", "sub_initiative_id"): "The sub-initiative the money is set "
                                                        "aside for.",
    ("funding_source_allocation", "request_funding_sources"): "Ids of the grant funding lines "
                                                              "charged to the allocation.",
    # request_funding_source
    ("request_funding_source", "funding_amount"): "Amount of the grant charged to the "
                                                  "allocation.",
    ("request_funding_source", "funding_source_allocation_id"): "The allocation the amount "
                                                                "is charged to.",
    ("request_funding_source", "funding_source_allocation"): "The allocation as a "
                                                             "one-element id array.",
    ("request_funding_source", "board_authority_id"): "Id of the board authority that "
                                                      "approved the charge.",
    ("request_funding_source", "document_file_name"): "File name of a supporting document.",
    ("request_funding_source", "request_regrant_id"): "The regrant this funding line pays "
                                                      "for, if any.",
    ("request_funding_source", "request_regrant"): "The regrant as a one-element id array.",
    ("request_funding_source", "fiscal_org_geo_country_id"): "Country of the grant's fiscal "
                                                             "organization; read-only.",
    ("request_funding_source", "fiscal_org_geo_state_id"): "State or province of the grant's "
                                                           "fiscal organization; read-only.",
    ("request_funding_source", "program_org_geo_country_id"): "Country of the grant's "
                                                              "applicant; read-only.",
    ("request_funding_source", "program_org_geo_state_id"): "State or province of the "
                                                            "grant's applicant; read-only.",
    ("request_funding_source", "request_transaction_funding_sources"): "Ids of the payment "
                                                                       "lines drawn from this "
                                                                       "funding line.",
    # request_transaction_funding_source
    ("request_transaction_funding_source", "amount"): "Part of the payment charged to the "
                                                      "funding line.",
    ("request_transaction_funding_source", "request_transaction_id"): "The payment.",
    ("request_transaction_funding_source", "request_funding_source_id"): "The grant funding "
                                                                         "line charged.",
    ("request_transaction_funding_source", "request_transaction"): "The payment as a "
                                                                   "one-element id array.",
    ("request_transaction_funding_source", "request_funding_source"): "The funding line as a "
                                                                      "one-element id array.",
    # geo
    ("geo_country", "name"): "English name of the country.",
    ("geo_country", "title"): "Formal title of the country.",
    ("geo_country", "capital"): "Capital city.",
    ("geo_country", "comment"): "Free-text remarks about the country.",
    ("geo_country", "currency"): "Name of the national currency.",
    ("geo_country", "currency_code"): "ISO 4217 code of the national currency.",
    ("geo_country", "fips104"): "FIPS 10-4 country code.",
    ("geo_country", "internet"): "Internet country-code top-level domain.",
    ("geo_country", "iso2"): "ISO 3166 two-letter country code.",
    ("geo_country", "iso3"): "ISO 3166 three-letter country code.",
    ("geo_country", "ison"): "ISO 3166 numeric country code.",
    ("geo_country", "map_reference"): "Region of the world the country is mapped under.",
    ("geo_country", "nationality_plural"): "Word for the people of the country (plural).",
    ("geo_country", "nationality_singular"): "Word for one person of the country.",
    ("geo_country", "population"): "Population figure, as text.",
    ("geo_country", "geo_states"): "Ids of the country's states and provinces.",
    ("geo_state", "name"): "Name of the state or province.",
    ("geo_state", "abbreviation"): "Postal abbreviation of the state or province.",
    ("geo_state", "fips_10_4"): "FIPS 10-4 code of the state or province.",
    ("geo_state", "geo_country_id"): "The country the state or province is in.",
    ("geo_state", "geo_region_id"): "The region the state or province belongs to.",
    ("geo_state", "geo_cities"): "Ids of the cities in the state or province.",
    ("geo_city", "name"): "Name of the city.",
    ("geo_city", "area_code"): "Telephone area code of the city.",
    ("geo_city", "geo_country_id"): "The country the city is in.",
    ("geo_city", "geo_state_id"): "The state or province the city is in.",
    ("geo_city", "latitude"): "Latitude of the city, as text.",
    ("geo_city", "longitude"): "Longitude of the city, as text.",
    ("geo_city", "metro_code"): "Metropolitan area code of the city.",
    ("geo_city", "original_id"): "Id of the city in the gazetteer it was loaded from.",
    ("geo_city", "postalcode"): "Main postal code of the city.",
    # model_document
    ("model_document", "documentable_type"): "Class of the record the document is attached "
                                             "to (GrantRequest, Organization...).",
    ("model_document", "documentable_id"): "Id of the record the document is attached to.",
    ("model_document", "document_file_name"): "File name of the document.",
    ("model_document", "document_content_type"): "Media type of the file (application/pdf...).",
    ("model_document", "document_file_size"): "Size of the file in bytes.",
    ("model_document", "document_updated_at"): "When the file itself was last replaced.",
    ("model_document", "document_description"): "Short description of the document.",
    ("model_document", "document_type"): "How the document is stored: an uploaded file, a "
                                         "link or a generated letter.",
    ("model_document", "allowed_filetypes"): "File types accepted for this document slot.",
    ("model_document", "api_url"): "Address from which the file can be downloaded through "
                                   "the API; read-only.",
    ("model_document", "checked_out"): "Whether someone has checked the document out for "
                                       "editing.",
    ("model_document", "checkout_token"): "Token of the current check-out; secret.",
    ("model_document", "doc_label"): "Slot label the document was uploaded under.",
    ("model_document", "doc_type_custom"): "Free-text document type when none of the "
                                           "configured types fits.",
    ("model_document", "doc_type_date"): "Date the document refers to (for dated types).",
    ("model_document", "doc_type_year"): "Year the document refers to (for yearly types).",
    ("model_document", "external_id"): "Id of the file in an external storage system.",
    ("model_document", "locked_manually"): "Whether a user locked the document against "
                                           "changes.",
    ("model_document", "system_locked"): "Whether the system locked the document against "
                                         "changes.",
    ("model_document", "model_document_master_id"): "The master copy this document was "
                                                    "generated from.",
    ("model_document", "model_document_sub_type_id"): "The document subtype.",
    ("model_document", "model_document_template_id"): "The template the document was "
                                                      "generated from; read-only.",
    ("model_document", "model_document_type_id"): "The document type.",
    ("model_document", "original_file_name"): "File name as uploaded, before any renaming.",
    ("model_document", "seq_number"): "Position of the document among its record's "
                                      "documents.",
    ("model_document", "storage_type"): "Where the file is stored (file, s3...).",
    ("model_document", "upload_state"): "Progress of the upload.",
    ("model_document", "grant_id"): "The grant the document belongs to, derived from its "
                                    "owner; read-only.",
    ("model_document", "request_id"): "The grant request the document belongs to, derived "
                                      "from its owner; read-only.",
    ("model_document", "request_or_grant_id"): "The request or grant the document belongs "
                                               "to, derived from its owner; read-only.",
    ("model_document", "organization_id"): "The organization the document belongs to, "
                                           "derived from its owner; read-only.",
    ("model_document", "report_id"): "The report the document belongs to, derived from its "
                                     "owner; read-only.",
    ("model_document", "transaction_id"): "The payment the document belongs to, derived from "
                                          "its owner; read-only.",
    ("model_document", "user_id"): "The user the document belongs to, derived from its owner; "
                                   "read-only.",
    ("model_document", "project_id"): "The project the document belongs to, derived from its "
                                      "owner; read-only.",
    ("model_document", "request_report_model_theme_id"): "Form theme of the owning report; "
                                                         "read-only.",
    ("model_document", "request_report_request_model_theme_id"): "Form theme of the owning "
                                                                 "report's grant; read-only.",
    ("model_document", "request_transaction_model_theme_id"): "Form theme of the owning "
                                                              "payment; read-only.",
    ("model_document", "request_transaction_request_model_theme_id"): "Form theme of the "
                                                                      "owning payment's "
                                                                      "grant; read-only.",
    ("model_document", "model_document_master"): "The master copy as a one-element id array.",
    # model_attribute
    ("model_attribute", "name"): "Field name the attribute adds to its class.",
    ("model_attribute", "model_type"): "Class the attribute belongs to (GrantRequest, "
                                       "Organization...).",
    ("model_attribute", "attribute_type"): "Value type of the attribute.",
    ("model_attribute", "description"): "Label or help text of the attribute.",
    ("model_attribute", "api_style"): "How the attribute is rendered through the API.",
    ("model_attribute", "calculation"): "Whether the attribute is a calculated one.",
    ("model_attribute", "calculation_enabled"): "Whether calculation is currently switched "
                                                "on for the attribute.",
    ("model_attribute", "calculation_order"): "Order in which calculated attributes are "
                                              "evaluated.",
    ("model_attribute", "calculation_related_model_type"): "Class whose records feed the "
                                                           "calculation.",
    ("model_attribute", "calculation_relationship_field"): "Relation followed to reach the "
                                                           "records that feed the calculation.",
    ("model_attribute", "decimal_format"): "Display format of decimal values.",
    ("model_attribute", "display_to_s"): "Whether the value is shown in the record's title.",
    ("model_attribute", "force_dropdown"): "Whether options are always shown as a drop-down.",
    ("model_attribute", "include_in_export"): "Whether the attribute is included in exports.",
    ("model_attribute", "include_in_fluxx_insight"): "Whether the attribute is sent to the "
                                                     "analytics warehouse.",
    ("model_attribute", "include_in_fulltext_search"): "Whether the attribute is part of "
                                                       "full-text search.",
    ("model_attribute", "legacy_name"): "Name the attribute had in an earlier system.",
    ("model_attribute", "legacy_table"): "Table the attribute lived in in an earlier system.",
    ("model_attribute", "mapped_attribute"): "Core field this attribute is mapped onto, if "
                                             "any.",
    ("model_attribute", "multi_allowed"): "Whether a record may hold several values.",
    ("model_attribute", "native_language_attribute_id"): "The attribute holding the same "
                                                         "value in the applicant's language.",
    ("model_attribute", "native_language_attribute"): "The native-language attribute as a "
                                                      "one-element id array.",
    ("model_attribute", "parent_id"): "The attribute this one depends on, for cascading "
                                      "choices.",
    ("model_attribute", "parent"): "The parent attribute as a one-element id array.",
    ("model_attribute", "round_calculated_value"): "Whether calculated values are rounded.",
    ("model_attribute", "show_related_tab"): "Whether related records appear in a tab.",
    ("model_attribute", "translatable"): "Whether values are offered for translation.",
    ("model_attribute", "use_local_currency"): "Whether amounts are in the record's local "
                                               "currency.",
    ("model_attribute", "value_model_type"): "Class of the records a relation-type attribute "
                                             "points to.",
    ("model_attribute", "model_attribute_values"): "Ids of the attribute's selectable options.",
    # model_attribute_value
    ("model_attribute_value", "model_attribute_id"): "The attribute this option belongs to.",
    ("model_attribute_value", "value"): "Stored value of the option.",
    ("model_attribute_value", "description"): "Label shown for the option.",
    ("model_attribute_value", "display_order"): "Position of the option in the list.",
    ("model_attribute_value", "dependent_model_attribute_value_id"): "The parent option this "
                                                                     "one is offered under.",
    ("model_attribute_value", "related_model_type"): "Class of a record the option stands "
                                                     "for, if any.",
    ("model_attribute_value", "related_model_id"): "Id of the record the option stands for.",
    ("model_attribute_value", "retired"): "Whether the option is no longer offered.",
    ("model_attribute_value", "model_attribute"): "The attribute as a one-element id array.",
    # model_attribute_choice
    ("model_attribute_choice", "model_attribute_id"): "The attribute this value belongs to.",
    ("model_attribute_choice", "model_attribute_value_id"): "The selected option, for "
                                                            "drop-down attributes.",
    ("model_attribute_choice", "model_id"): "Id of the record that holds the value.",
    ("model_attribute_choice", "model_value_id"): "Id of a related record the value points "
                                                  "to, for relation attributes.",
    ("model_attribute_choice", "choice_number"): "Position of this value among the record's "
                                                 "values of the attribute.",
    ("model_attribute_choice", "amount_value"): "The value, for decimal attributes.",
    ("model_attribute_choice", "boolean_value"): "Whether the value is yes, for yes/no "
                                                 "attributes.",
    ("model_attribute_choice", "date_value"): "The value, for date attributes.",
    ("model_attribute_choice", "datetime_value"): "The value, for date-and-time attributes.",
    ("model_attribute_choice", "integer_value"): "The value, for integer attributes.",
    ("model_attribute_choice", "string_value"): "The value, for short text attributes.",
    ("model_attribute_choice", "text_value"): "The value, for long text attributes.",
    ("model_attribute_choice", "string_equivalent"): "The value rendered as text, whatever "
                                                     "its type.",
    ("model_attribute_choice", "model_attribute"): "The attribute as a one-element id array.",
    ("model_attribute_choice", "model_attribute_value"): "The selected option as a "
                                                         "one-element id array.",
    # workflow_event
    ("workflow_event", "workflowable_type"): "Class of the record whose state changed.",
    ("workflow_event", "workflowable_id"): "Id of the record whose state changed.",
    ("workflow_event", "related_workflowable_type"): "Class of a second record the change "
                                                     "concerns, if any.",
    ("workflow_event", "related_workflowable_id"): "Id of the second record the change "
                                                   "concerns.",
    ("workflow_event", "old_state"): "State before the change; empty for the state set at "
                                     "creation.",
    ("workflow_event", "new_state"): "State after the change.",
    ("workflow_event", "change_type"): "Kind of change (state change, comment...).",
    ("workflow_event", "comment"): "Comment entered with the change.",
    ("workflow_event", "ip_address"): "Network address the change was made from.",
    ("workflow_event", "created_at"): "When the change happened.",
    ("workflow_event", "created_by_id"): "The user who made the change.",
    # note
    ("note", "note"): "Text of the note.",
    ("note", "notable_type"): "Class of the record the note is attached to.",
    ("note", "notable_id"): "Id of the record the note is attached to.",
    ("note", "attribute_name"): "Field of the record the note comments on, if any.",
    ("note", "form_element_id"): "The form element the note comments on, if any.",
    ("note", "form_element"): "The form element as a one-element id array.",
    ("note", "private"): "Whether only staff may read the note.",
    ("note", "created_by_id"): "The author of the note.",
}


# How derived currency columns (amount_paid_local, amount_paid_fx_2) name their base.
AMOUNT_LABEL = {
    "amount": "The amount", "amount_due": "The amount due", "amount_paid": "The amount paid",
    "amount_recommended": "The recommended amount",
    "amount_requested": "The requested amount", "donated_amount": "The donated amount",
    "funding_amount": "The funded amount",
    "old_amount_recommended": "The recommended amount before the amendment",
}


def article(noun):
    return ("an " if noun[0].lower() in "aeio" else "a ") + noun


def plural(noun):
    return PLURAL_NOUN.get(noun, noun + "s")


def tnoun(target):
    if target in CLASSES:
        return CLASSES[target]["noun"]
    return TARGET_NOUN.get(target, (target or "record").replace("_", " "))


def words(name):
    return name.replace("_", " ")


FALLBACKS = []


def describe(c, f, byname):
    noun = CLASSES[c]["noun"]
    d = CLASS_FIELD_DESC.get((c, f.name))
    if d is None and c == "workflow_event" and f.type == "FT_REF" and \
            f.name not in AUDIT_REFS + ("segment_id", "segment_tag_id"):
        d = "Set when the changed record is %s: its id, the same as workflowable_id." % \
            article(tnoun(f.target))
    if d is None and f.name in FIELD_DESC and f.name != "workflow_events":
        d = FIELD_DESC[f.name].format(noun=noun)
    if d is not None:
        return d
    n = f.name
    if f.type == "FT_HAS_MANY":
        if n == "workflow_events":
            return "Ids of the workflow events recorded for this %s (matched on their %s " \
                   "column)." % (noun, f.via)
        return "Ids of the %s whose %s is this %s." % (plural(tnoun(f.target)), f.via, noun)
    if f.type == "FT_REF_ALIAS":
        return "The %s as a one-element id array (same value as %s)." % (
            tnoun(f.target), f.via)
    if f.type == "FT_REF":
        if n == (f.target or "") + "_id":
            return "The %s this %s is linked to." % (tnoun(f.target), noun)
        if n.endswith("_model_theme_id"):
            return "Form theme of the related %s, copied for filtering; read-only." % \
                words(n[:-len("_model_theme_id")])
        return "The %s recorded as the %s of this %s." % (tnoun(f.target), words(n[:-3]), noun)
    for suffix, tail in (("_local", "in the grant's local currency"),
                         ("_fx_2", "converted to the second reporting currency")):
        base = n[:-len(suffix)]
        if n.endswith(suffix) and base in byname:
            return "%s, %s." % (AMOUNT_LABEL.get(base, "The " + words(base)), tail)
    if c == "user_profile" and n.startswith("can_"):
        return "Whether users with this profile may %s." % words(n[4:])
    FALLBACKS.append((c, n))
    return "The %s of this %s." % (words(n), noun)


def add_descriptions(out):
    for c, lst in out.items():
        byname = {}
        for f in lst:
            f.desc = describe(c, f, byname)
            byname[f.name] = f

# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------
FLAG_ORDER = ["FF_REQUIRED", "FF_READONLY", "FF_SECRET", "FF_FULLTEXT", "FF_DATEONLY",
              "FF_MASKED", "FF_COMPACT", "FF_DETAIL", "FF_SERVER", "FF_ADMINSET",
              "FF_GRANTEE_RO", "FF_CROSS"]
FLAG_WORD = {"FF_REQUIRED": "required", "FF_READONLY": "read-only", "FF_SECRET": "secret",
             "FF_FULLTEXT": "full-text", "FF_DATEONLY": "date-only", "FF_MASKED": "masked",
             "FF_COMPACT": "compact", "FF_DETAIL": "detail", "FF_SERVER": "server",
             "FF_ADMINSET": "admin-set", "FF_GRANTEE_RO": "grantee-ro",
             "FF_CROSS": "hidden from grantees"}
SCOPE_TEXT = {
    "SCOPE_NONE": "Grantees see no record of this class.",
    "SCOPE_ALL": "Reference data: every user, grantees included, may read all records.",
    "SCOPE_ORG": "A grantee sees the organizations it belongs to (through user_organization).",
    "SCOPE_GRANT": "A grantee sees grant requests whose program_organization_id or "
                   "fiscal_organization_id is one of its organizations.",
    "SCOPE_VIA_GRANT": "A grantee sees the records whose `{col}` names a grant request it "
                       "can see.",
    "SCOPE_VIA_ORG": "A grantee sees the records whose `{col}` is one of its organizations.",
    "SCOPE_USER": "A grantee sees the users that belong to one of its organizations.",
    "SCOPE_DOC": "A grantee sees the documents attached (documentable_type, documentable_id) "
                 "to a record it can see.",
}
CLASS_FLAG_TEXT = {
    "CF_READONLY": "read-only through the API (written by the server)",
    "CF_ADMIN_WRITE": "only admin writes it",
    "CF_STAFF_WRITE": "admin, super_user and employee write it",
}


def c_str(s):
    assert all(ord(ch) < 128 for ch in s), s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def c_flags(flags, order):
    fl = [f for f in order if f in flags]
    return " | ".join(fl) if fl else "0"


def camel_of(rows):
    m = {r["path_segment"]: r["model_class"] for r in rows}
    return {c: m[c] for c in CLASSES}


def emit_c(out, camel, tsv_name):
    L = []
    L.append("/* GENERATED by tools/gen_registry.py from the Fluxx field catalogue (%s) and the"
             % tsv_name)
    L.append(" * overrides inside that script. Do not edit by hand: change the script and run")
    L.append(" *     /usr/bin/python3 tools/gen_registry.py [path/to/fluxx-doc-fields.tsv]")
    L.append(" * which rewrites this file, docs/classes.md and docs/workflows.md. */")
    L.append('#include "registry.h"')
    L.append("")
    L.append("#include <stddef.h>")
    L.append("")
    L.append("#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))")
    for c in sorted(out):
        L.append("")
        L.append("static const struct field %s_fields[] = {" % c)
        for f in out[c]:
            parts = [".name = %s" % c_str(f.name), ".type = %s" % f.type,
                     ".flags = %s" % c_flags(f.flags, FLAG_ORDER)]
            if f.target:
                parts.append(".target = %s" % c_str(f.target))
            if f.via:
                parts.append(".via = %s" % c_str(f.via))
            if f.scale:
                parts.append(".scale = %d" % f.scale)
            if f.maxlen:
                parts.append(".maxlen = %d" % f.maxlen)
            if f.enum:
                parts.append(".enumvals = %s" % c_str(f.enum))
            parts.append(".desc = %s" % c_str(f.desc))
            if getattr(f, "expr", None):
                parts.append(".expr = %s" % c_str(f.expr))
            if getattr(f, "expr_pg", None):
                parts.append(".expr_pg = %s" % c_str(f.expr_pg))
            L.append("    {" + ", ".join(parts) + "},")
        L.append("};")
    for c in sorted(WORKFLOWS):
        wf = WORKFLOWS[c]
        L.append("")
        L.append("static const char *const %s_states[] = {%s, NULL};"
                 % (c, ", ".join(c_str(s) for s in wf["states"])))
        L.append("static const struct transition %s_transitions[] = {" % c)
        for a, b, _ in wf["transitions"]:
            L.append("    {%s, %s}," % (c_str(a), c_str(b)))
        L.append("};")
        L.append("static const struct workflow %s_workflow = {.states = %s_states, "
                 ".transitions = %s_transitions, .ntransitions = COUNT(%s_transitions)};"
                 % (c, c, c, c))
    L.append("")
    L.append("/* Sorted by name. */")
    L.append("const struct class_def registry_classes[] = {")
    for c in sorted(out):
        m = CLASSES[c]
        parts = [".name = %s" % c_str(c), ".camel = %s" % c_str(camel[c]),
                 ".desc = %s" % c_str(m["desc"]), ".fields = %s_fields" % c,
                 ".nfields = COUNT(%s_fields)" % c,
                 ".wf = %s" % ("&%s_workflow" % c if c in WORKFLOWS else "NULL"),
                 ".flags = %s" % c_flags(m["flags"], ["CF_READONLY", "CF_ADMIN_WRITE",
                                                      "CF_STAFF_WRITE"]),
                 ".scope = %s" % m["scope"],
                 ".scope_col = %s" % (c_str(m["scope_col"]) if m["scope_col"] else "NULL")]
        L.append("    {" + ", ".join(parts) + "},")
    L.append("};")
    L.append("const int registry_nclasses = COUNT(registry_classes);")
    return "\n".join(L) + "\n"


def type_text(f):
    t = {"FT_INT": "integer", "FT_FLOAT": "float", "FT_TEXT": "text", "FT_BOOL": "boolean",
         "FT_DATE": "date", "FT_DATETIME": "datetime"}.get(f.type)
    if t:
        return t
    if f.type == "FT_DECIMAL":
        return "decimal(%d)" % f.scale
    if f.type == "FT_STRING":
        return "string(%d)" % f.maxlen
    if f.type == "FT_REF":
        return "ref → %s" % (f.target or "?")
    if f.type == "FT_REF_ALIAS":
        return "alias of %s" % f.via
    return "has_many %s.%s" % (f.target, f.via)


def md_cell(s):
    return s.replace("|", "\\|")


def emit_classes_md(out, camel, computed, skipped):
    L = ["# grantd classes", "",
         "Generated by `tools/gen_registry.py` from the Fluxx field catalogue "
         "(`../shared/fluxx/fluxx-doc-fields.tsv`) and the overrides inside the script; do "
         "not edit by hand. The same rows are compiled into `src/models/classes.c`.", "",
         "## Reading the tables", "",
         "- **type**: `integer`, `decimal(s)` (exact, `s` digits after the point), `float`, "
         "`string(n)` (at most n characters), `text`, `boolean`, `date` (`YYYY-MM-DD`), "
         "`datetime` (UTC); `ref → class` is a `*_id` column naming a record of that class "
         "(`?` when the catalogue does not say which); `alias of x_id` is the same reference "
         "rendered as a one-element id array (`created_by`); `has_many class.fk` is the list "
         "of ids of the records of `class` whose `fk` points at this record.",
         "- **flags**: `required` on create; `read-only` through the API (ignored and listed in "
         "`X-Ignored-Fields`); `server` maintained by grantd; `secret` never rendered, filtered "
         "or sorted; `masked` rendered as `****1234` except to admin and super_user; "
         "`full-text` searched by `query`; `date-only` a datetime holding a calendar date "
         "(midnight UTC, filtered by its UTC date); `compact`/`detail` the v1 style that first "
         "includes the field (aliases and has_many appear only in `full`); `admin-set` only an "
         "admin may set it; `grantee-ro` a grantee may never write it.",
         "",
         "## Decisions", "",
         "- Every class has `id`, `created_at`, `updated_at`, `deleted_at` (server) and "
         "`created_by_id`, `updated_by_id` (admin-set refs to user), added where the catalogue "
         "lacks them.",
         "- `state` is a string on every class (the catalogue's `integer` is wrong on the "
         "wire). Classes with a workflow are listed in `docs/workflows.md`; on "
         "`request_amendment`, `bank_account`, `fund` and `funding_source` `state` is a plain "
         "string without transition rules.",
         "- Integer `*_id` columns are references when their class can be told: from the "
         "catalogue's relation of the same name or its `_id`-less alias, from the same name "
         "elsewhere in the catalogue, or from the name itself (`segment_id` → segment). "
         "Polymorphic and external ids (`documentable_id`, `notable_id`, `workflowable_id`, "
         "`model_id`, `ofac_run_id`...) stay integers.",
         "- Date-only datetimes: business dates people enter or schedules produce "
         "(`grant_begins_at`, `grant_closed_at`, `grant_agreement_at`, `grant_approved_at`, "
         "`request_received_at`, `due_at`, `paid_at`, `birth_at`, `start_at`/`end_at`, "
         "`start_date`/`end_date`, `opened_at`/`closed_at`...). Event timestamps "
         "(`created_at`, `updated_at`, `deleted_at`, `locked_until`, `last_*_at`, `*_run_at`, "
         "`request_report.approved_at`, `document_updated_at`, `ext_sync_at`) are not.",
         "- Secret: `user.mfa_*` and `model_document.checkout_token`. Masked: bank account and "
         "routing numbers, bank codes and SWIFT codes of `bank_account`.",
         "- `model_document.documentable_type` is a column here (the catalogue lists it as "
         "computed) because uploads set it; `model_document.document_type` is a string "
         "(`\"file\"` on the wire), not the catalogue's integer.",
         "- `workflow_event` carries one `*_id` column per workflow class it can describe "
         "(`grant_request_id`, `request_transaction_id`...); the server fills the one that "
         "matches `workflowable_type`, which is what backs `workflow_events` on those classes.",
         "- Plural relations are kept only when a single writable foreign key in the target "
         "class backs them; the others are listed per class under *Not supported yet*.",
         "",
         "## Classes", "",
         "| class | CamelCase | writes | grantee scope | fields | workflow |",
         "|---|---|---|---|---|---|"]
    for c in sorted(out):
        m = CLASSES[c]
        writes = {"CF_READONLY": "nobody (server only)", "CF_ADMIN_WRITE": "admin",
                  "CF_STAFF_WRITE": "admin, super_user, employee"}.get(
                      (m["flags"] or [""])[0], "admin, super_user")
        L.append("| [`%s`](#%s) | `%s` | %s | %s | %d | %s |" % (
            c, c, camel[c], writes, m["scope"].replace("SCOPE_", "").lower(), len(out[c]),
            "[yes](workflows.md#%s)" % c if c in WORKFLOWS else "–"))
    for c in sorted(out):
        m = CLASSES[c]
        L += ["", "## %s" % c, "", "`%s` — %s" % (camel[c], m["desc"]), ""]
        writes = ", ".join(CLASS_FLAG_TEXT[f] for f in m["flags"]) or \
            "admin and super_user write it"
        L.append("- Writes: %s." % writes)
        L.append("- Workflow: %s." % ("see [workflows.md](workflows.md#%s) (initial state "
                                      "`%s`)" % (c, WORKFLOWS[c]["states"][0])
                                      if c in WORKFLOWS else "none"))
        L.append("- Grantee scope (`%s`): %s" % (
            m["scope"], SCOPE_TEXT[m["scope"]].format(col=m["scope_col"])))
        req = [f.name for f in out[c] if "FF_REQUIRED" in f.flags]
        L.append("- Required on create: %s." % (", ".join("`%s`" % r for r in req) or "none"))
        L.append("- v1 `compact` style: %s." % ", ".join(
            "`%s`" % f.name for f in out[c] if "FF_COMPACT" in f.flags))
        L += ["", "| field | type | flags | description |", "|---|---|---|---|"]
        for f in out[c]:
            flags = ", ".join(FLAG_WORD[x] for x in FLAG_ORDER if x in f.flags)
            desc = f.desc
            if f.enum:
                desc += " Values: %s." % ", ".join("`%s`" % v for v in f.enum.split("|"))
            L.append("| `%s` | %s | %s | %s |" % (f.name, md_cell(type_text(f)), flags,
                                                  md_cell(desc)))
        comp = computed.get(c, [])
        sk = skipped.get(c, [])
        if comp or sk:
            L += ["", "### %s: not supported yet" % c, ""]
            L.append("Requests naming these in `cols` or `relation` get them listed in "
                     "`X-Ignored-Fields`; filters and sorts on them are code 103.")
            if comp:
                L += ["", "Computed members (catalogue value type): " + ", ".join(
                    "`%s` (%s)" % (n, k) for n, k in comp) + "."]
            if sk:
                L += ["", "Relations without a backing foreign key in grantd: " + ", ".join(
                    "`%s`" % n for n, _, _ in sorted(sk)) + "."]
    return "\n".join(L) + "\n"


def emit_workflows_md():
    L = ["# grantd workflows", "",
         "Generated by `tools/gen_registry.py`; do not edit by hand. The same data is compiled "
         "into `src/models/classes.c` (`*_states`, `*_transitions`).", "",
         "A record's `state` moves only along the transitions below (an update naming the "
         "current state again is not a transition). Anything else is error code 104, which "
         "names the current state and the allowed next ones. A create may set any state of "
         "the workflow (imports of paid payments, closed grants); without one the record "
         "starts in the initial state. Each accepted change, and each create, writes a "
         "`workflow_event` row (old state empty on create). The graphs follow the historic "
         "Fluxx defaults of fluxx-reference §7.5; a site's own machine is a later piece of "
         "work.", "",
         "Classes that have a `state` column but no workflow (`request_amendment`, "
         "`bank_account`, `fund`, `funding_source`) treat it as a plain string.", "",
         "`request_transaction` starts in `tentatively_due` (§7.5); its `new` is a legacy "
         "state that only a create (an import) can set, and that leads into the schedule.",
         ""]
    for c in sorted(WORKFLOWS):
        wf = WORKFLOWS[c]
        L += ["## %s" % c, "", "| state | initial | may move to |", "|---|---|---|"]
        for s in wf["states"]:
            nxt = [b for a, b, _ in wf["transitions"] if a == s]
            L.append("| `%s` | %s | %s |" % (s, "yes" if s == wf["states"][0] else "",
                                             ", ".join("`%s`" % x for x in nxt) or
                                             "(final)"))
        L += ["", "| from | to | meaning |", "|---|---|---|"]
        for a, b, why in wf["transitions"]:
            L.append("| `%s` | `%s` | %s |" % (a, b, why))
        L.append("")
    return "\n".join(L)


def check(out):
    """Invariants the unit test also asserts, caught here before any C is written."""
    for c, lst in out.items():
        names = {f.name: f for f in lst}
        for need in SERVER_FIELDS + ("created_by_id", "updated_by_id"):
            assert need in names, (c, need)
        for f in lst:
            assert IDENT.match(f.name), (c, f.name)
            if f.type == "FT_REF_ALIAS":
                assert names[f.via].type == "FT_REF", (c, f.name)
            if f.type == "FT_HAS_MANY":
                v = {g.name: g for g in out[f.target]}[f.via]
                assert v.type == "FT_REF" and v.target == c, (c, f.name)
    for c, wf in WORKFLOWS.items():
        st = set(wf["states"])
        assert len(st) == len(wf["states"]), c
        pairs = [(a, b) for a, b, _ in wf["transitions"]]
        assert len(pairs) == len(set(pairs)), c
        for a, b in pairs:
            assert a in st and b in st and a != b, (c, a, b)
        assert "state" in {f.name for f in out[c]}, c


def order_transitions():
    """Group each workflow's transitions by source state, in state order."""
    for wf in WORKFLOWS.values():
        idx = {st: i for i, st in enumerate(wf["states"])}
        wf["transitions"].sort(key=lambda t: (idx[t[0]], idx[t[1]]))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv):
    global VERBOSE
    args = [a for a in argv[1:] if a != "-v"]
    VERBOSE = len(args) != len(argv) - 1
    tsv = args[0] if args else DEFAULT_TSV
    rows = load(tsv)
    classes, computed, skipped = build(rows)
    out = finish(classes)
    add_descriptions(out)
    add_computed(out, computed)
    order_transitions()
    check(out)
    camel = camel_of(rows)
    cfile = os.path.join(ROOT, "src", "models", "classes.c")
    write(cfile, emit_c(out, camel, os.path.basename(tsv)))
    if shutil.which("clang-format"):
        subprocess.run(["clang-format", "-i", "--style=file", cfile], check=True, cwd=ROOT)
    else:
        print("clang-format not found: src/models/classes.c is not formatted", file=sys.stderr)
    write(os.path.join(ROOT, "docs", "classes.md"), emit_classes_md(out, camel, computed,
                                                                    skipped))
    write(os.path.join(ROOT, "docs", "workflows.md"), emit_workflows_md())
    nf = sum(len(v) for v in out.values())
    print("%d classes, %d fields -> src/models/classes.c, docs/classes.md, docs/workflows.md"
          % (len(out), nf))
    if FALLBACKS:
        print("fields without a written description: %s" % ", ".join(
            "%s.%s" % x for x in FALLBACKS), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
