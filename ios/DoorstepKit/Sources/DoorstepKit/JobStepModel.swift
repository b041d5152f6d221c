import Doorstep
import Observation

extension StepInput {
    /// An empty step form's input.
    public static let empty = StepInput(text: "", materials: [], date: nil, rating: nil)
}

/// The take-the-next-step screen of one job.
public struct JobStepState: Equatable, Sendable {
    public var loading = false
    public var job: JobDetails?
    public var itemName = ""
    public var steps: [JobStepKind] = []
    public var chosen: JobStepKind?
    /// The chosen step's form, as the core describes it (fields, labels, choices).
    public var form: StepForm?
    public var input = StepInput.empty
    public var working = false
    public var taken: JobStepKind?
    public var error: String?

    /// The job's state in words, for example "已受理".
    public var stateLabel: String { job?.progress.state.label() ?? "" }

    /// The materials the form lets the agent tick.
    public var materialChoices: [String] {
        form?.fields.first { $0.kind == .materials }?.choices ?? []
    }
}

/// Shows what may be done next on a job and records the step the agent takes.
@MainActor @Observable
public final class JobStepModel {
    public private(set) var state = JobStepState()
    private let repo: DoorstepRepository
    private let jobId: String

    public init(repo: DoorstepRepository, jobId: String) {
        self.repo = repo
        self.jobId = jobId
    }

    /// Reads the job and its possible steps again.
    public func refresh() async {
        state.loading = true
        state.error = nil
        await reload(taken: nil)
    }

    /// Opens the form of a step (any step: the store says why one is not possible now).
    public func choose(_ kind: JobStepKind) async {
        do {
            state.form = try await repo.stepForm(jobId, kind)
            state.chosen = kind
            state.input = .empty
            state.error = nil
        } catch {
            state.error = error.userMessage
        }
    }

    /// Changes the open form.
    public func edit(_ change: (inout StepInput) -> Void) {
        change(&state.input)
        state.error = nil
    }

    /// Records the chosen step from its form, with where the phone was if it knows.
    public func submit(location: Location? = nil) async {
        guard let kind = state.chosen else {
            state.error = "请先选择要办理的步骤"
            return
        }
        state.working = true
        state.error = nil
        do {
            try await repo.takeStep(jobId, kind, state.input, location: location)
            await reload(taken: kind)
        } catch {
            state.working = false
            state.error = error.userMessage
        }
    }

    private func reload(taken: JobStepKind?) async {
        do {
            let job = try await repo.job(jobId)
            let steps = try await repo.possibleSteps(jobId)
            let name = repo.item(code: job.job.itemCode)?.name ?? job.job.itemCode
            state = JobStepState(job: job, itemName: name, steps: steps, taken: taken)
        } catch {
            state.loading = false
            state.working = false
            state.error = error.userMessage
        }
    }
}
