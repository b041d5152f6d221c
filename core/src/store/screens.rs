//! Screen data in one call: what a shell's household screen shows (the household, its members,
//! ledger lines with their due dates, jobs with the steps the signed-in user may take now,
//! visits, conflicts and sync state), read from one document; and a job step's form.

use chrono::NaiveDate;

use super::Store;
use crate::document::FieldConflict;
use crate::domain::catalogue::{item, item_name};
use crate::domain::household::{Household, Member};
use crate::domain::job::JobDetails;
use crate::domain::ledger::LedgerLine;
use crate::domain::progress::JobProgress;
use crate::domain::step::JobStepKind;
use crate::domain::step::Location;
use crate::domain::step_form::{StepForm, StepInput};
use crate::domain::visit::Visit;
use crate::error::{CoreError, Result};
use crate::store::HouseholdSyncState;

/// A ledger line as the household screen lists it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LedgerRow {
    /// The line.
    pub line: LedgerLine,
    /// The name of the member it is about.
    pub member_name: String,
    /// When it next asks for attention.
    pub next_due: Option<NaiveDate>,
    /// Whether that is today or earlier (in the town's time zone).
    pub due_now: bool,
}

/// A job as the household screen lists it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct JobRow {
    /// The job with its progress.
    pub details: JobDetails,
    /// The catalogue item's name.
    pub item_name: String,
    /// The name of the member it is for.
    pub member_name: String,
    /// The steps the signed-in user may take now.
    pub next_steps: Vec<JobStepKind>,
}

/// Everything the household screen (一户一档) shows.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HouseholdScreen {
    /// The household.
    pub household: Household,
    /// Its members.
    pub members: Vec<Member>,
    /// Its ledger lines, the soonest due first (lines that ask for nothing more last).
    pub ledger: Vec<LedgerRow>,
    /// Its jobs.
    pub jobs: Vec<JobRow>,
    /// Its visits, the latest first.
    pub visits: Vec<Visit>,
    /// Fields with conflicting values to settle.
    pub conflicts: Vec<FieldConflict>,
    /// Where its sync stands.
    pub sync_state: HouseholdSyncState,
}

impl Store {
    /// Everything the household screen shows, read at once.
    pub fn household_screen(&self, household_id: &str) -> Result<HouseholdScreen> {
        let role = self.current_user().ok_or(CoreError::NotSignedIn)?.role;
        let today = self.today();
        let (data, conflicts) =
            self.read_doc(household_id, |doc| Ok((doc.read()?, doc.conflicts()?)))?;
        let name_of = |member_id: &str| {
            data.member(member_id)
                .map_or_else(String::new, |m| m.name.clone())
        };
        let mut ledger: Vec<LedgerRow> = data
            .ledger
            .iter()
            .map(|line| {
                let next_due = line.next_due();
                LedgerRow {
                    member_name: name_of(&line.member_id),
                    due_now: next_due.is_some_and(|d| d <= today),
                    next_due,
                    line: line.clone(),
                }
            })
            .collect();
        ledger.sort_by_key(|row| (row.next_due.is_none(), row.next_due));
        let jobs = data
            .jobs
            .iter()
            .map(|details| {
                let next_steps = item(&details.job.item_code)
                    .map(|i| details.progress.possible_steps(i, role))
                    .unwrap_or_default();
                JobRow {
                    item_name: item_name(&details.job.item_code),
                    member_name: name_of(&details.job.member_id),
                    next_steps,
                    details: details.clone(),
                }
            })
            .collect();
        let mut visits = data.visits.clone();
        visits.sort_by_key(|v| std::cmp::Reverse(v.done_at));
        Ok(HouseholdScreen {
            sync_state: self.household_sync_state(household_id)?,
            household: data.household.clone(),
            members: data.members.clone(),
            ledger,
            jobs,
            visits,
            conflicts,
        })
    }

    /// The form of a step on a job, with its choices for this job.
    pub fn step_form(&self, job_id: &str, kind: JobStepKind) -> Result<StepForm> {
        let details = self.job(job_id)?;
        Ok(kind.form(item(&details.job.item_code)?, &details.progress))
    }

    /// Takes a step from its filled-in form (checked as the form says, then as any step).
    pub fn take_step_from_form(
        &self,
        job_id: &str,
        kind: JobStepKind,
        input: &StepInput,
        location: Option<Location>,
    ) -> Result<JobProgress> {
        self.take_step(job_id, kind.step_from(input)?, location)
    }
}
