# Change-tracking tags on every resource, from the pipeline (examples/ci/gitlab-ci.yml, job
# `terraform-plan`): the AWS provider's default_tags put them in each resource's `tags_all`, which
# `tollgate manifest --terraform-plan` reads and the SOX-CC-06 control checks against the change.

variable "change_ticket" {
  type        = string
  description = "Change ticket id (ChangeTicket tag)."
}

variable "git_commit_sha" {
  type        = string
  description = "Commit deployed (GitCommitSHA tag)."
}

variable "approval_reference" {
  type        = string
  description = "Change board approval id (ApprovalReference tag)."
}

provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = {
      ChangeTicket        = var.change_ticket
      GitCommitSHA        = var.git_commit_sha
      ApprovalReference   = var.approval_reference
      ComplianceFramework = "SOX"
    }
  }
}

# An audit trail the gate accepts: logging, multi-region, validated, KMS-encrypted.
resource "aws_cloudtrail" "audit" {
  name                          = "org-audit-trail"
  s3_bucket_name                = aws_s3_bucket.audit_logs.bucket
  include_global_service_events = true
  is_multi_region_trail         = true
  enable_log_file_validation    = true
  kms_key_id                    = aws_kms_key.audit.arn
}

resource "aws_kms_key" "audit" {
  description         = "audit log encryption"
  enable_key_rotation = true
}

resource "aws_s3_bucket" "audit_logs" {
  bucket = "example-audit-logs"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit_logs" {
  bucket = aws_s3_bucket.audit_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.audit.arn
    }
  }
}

resource "aws_s3_bucket_public_access_block" "audit_logs" {
  bucket                  = aws_s3_bucket.audit_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
