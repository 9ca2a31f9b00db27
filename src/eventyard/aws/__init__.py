"""The AWS-compatible endpoint: boto3 and the AWS CLI talk to eventyard (SQS, SNS, EventBridge)."""
