//! Needs that reach the town hub by other roads than a village agent's visit (the
//! 发现-上报-处置-反馈 loop): the 12345 hotline, the party secretary's mailbox, a resident's call.
//! Hub staff register them on a household's ledger or as an informed job for its village; the
//! village agent's phone shows them as today's work.

use super::codes::code_enum;

code_enum! {
    /// Where a need registered at the hub came from.
    pub enum IntakeSource {
        /// 12345 政务服务便民热线.
        Hotline => ("hotline_12345", "12345热线"),
        /// 书记信箱.
        SecretaryMailbox => ("secretary_mailbox", "书记信箱"),
        /// 群众来电.
        ResidentCall => ("resident_call", "群众来电"),
    }
}

impl IntakeSource {
    /// The note written with the need, naming its source so that the agent sees it.
    pub fn note(self, text: &str) -> String {
        format!("【{}】{}", self.label(), text.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_source() {
        assert_eq!(
            IntakeSource::Hotline.note(" 申请轮椅 "),
            "【12345热线】申请轮椅"
        );
    }
}
