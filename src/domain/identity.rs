/// Who the console is acting as (STS GetCallerIdentity), shown in the header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

impl Identity {
    /// The readable part of the caller ARN: `assumed-role/OnCall/alice` for an assumed role,
    /// `user/alice` for an IAM user.
    pub fn short_name(&self) -> &str {
        match self.arn.split_once(':') {
            Some(_) => self.arn.rsplit(':').next().unwrap_or(&self.arn),
            None => &self.arn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_name_takes_the_resource_part() {
        let id = Identity {
            account: "123456789012".into(),
            arn: "arn:aws:sts::123456789012:assumed-role/OnCall/alice".into(),
            user_id: "AROA:alice".into(),
        };
        assert_eq!(id.short_name(), "assumed-role/OnCall/alice");
    }
}
