// The control catalogue of the Acme Change Governance pack: the organisation's risk-and-control
// matrix (RCM) ids, each with the regulatory references it evidences and the rule ids its findings
// carry. The host fills a finding's references from this catalogue (tollgate:policy@0.3.0), and
// refuses a decision that names a rule its control does not list.

export const POLICY_ID = 'acme-governance';
export const FRAMEWORK = 'Acme Change Governance';
export const VERSION = '1.0.0';
export const DESCRIPTION =
  "Acme's change governance framework: deployment authorization, change documentation, risk " +
  'classification and the approval of every change (RCM CC-01)';

const ref = (source, section) => ({ source, section });

// References shared by several controls.
const SOX_404 = ref('Sarbanes-Oxley Act of 2002', 'Section 404 (ITGC: program change)');
const COSO_P10 = ref('COSO 2013', 'Principle 10 (selects and develops control activities)');
const COSO_P11 = ref('COSO 2013', 'Principle 11 (general controls over technology)');
const COSO_P7 = ref('COSO 2013', 'Principle 7 (identifies and analyzes risk)');
const ISO_A832 = ref('ISO/IEC 27001:2022', 'A.8.32 (change management)');

/** Every control, in the order decisions answer them. */
export const CONTROLS = [
  {
    id: 'CC-01',
    title: 'All changes must have approval',
    description:
      'Every change is approved before it reaches a governed environment: the change ticket is ' +
      'approved (an emergency change may proceed on a submitted ticket), and the approver roles ' +
      'its risk class requires are held by distinct people other than the author and the ' +
      'deployer, with approvals dated before the deployment; a low-risk change may instead pass ' +
      'every automated check of the automated route.',
    references: [
      SOX_404,
      COSO_P11,
      ref('COBIT 2019', 'BAI06.01'),
      ISO_A832,
      ref('NIST SP 800-53 Rev. 5', 'CM-3'),
    ],
    rules: [
      'ticket-rejected',
      'ticket-not-approved',
      'approval-by-author',
      'approval-by-deployer',
      'approval-after-evaluation',
    ],
    reliesOn: ['change.ticket_status', 'change.approvals'],
  },
  {
    id: 'DA-01',
    title: 'Authorised deployers',
    description:
      'Only members of an authorised deployer group deploy to a production environment.',
    references: [
      SOX_404,
      COSO_P11,
      ref('COBIT 2019', 'DSS05.04'),
      ref('ISO/IEC 27001:2022', 'A.8.2 (privileged access rights)'),
      ref('NIST SP 800-53 Rev. 5', 'CM-5'),
      ref('NIST SP 800-53 Rev. 5', 'AC-6'),
    ],
    rules: ['deployer-not-authorised'],
    reliesOn: ['change.deployer_groups'],
  },
  {
    id: 'DA-02',
    title: 'Segregation of development and deployment',
    description:
      'The author of a change does not deploy it to a production environment.',
    references: [
      SOX_404,
      COSO_P10,
      ref('ISO/IEC 27001:2022', 'A.5.3 (segregation of duties)'),
      ref('NIST SP 800-53 Rev. 5', 'AC-5'),
    ],
    rules: ['author-deploys-own-change'],
    reliesOn: ['change.author', 'change.deployer'],
  },
  {
    id: 'DA-03',
    title: 'CAB-scheduled change window',
    description:
      'A production change to a service of a tier that needs the Change Advisory Board carries ' +
      'its CAB reference and approved change window, and deploys inside that window. Emergency ' +
      'changes follow RC-02 instead.',
    references: [
      ref('COBIT 2019', 'BAI06.01'),
      ref('COBIT 2019', 'BAI07.06'),
      ISO_A832,
      ref('NIST SP 800-53 Rev. 5', 'CM-3'),
    ],
    rules: ['cab-reference-missing', 'change-window-missing', 'outside-change-window'],
    reliesOn: [],
  },
  {
    id: 'CD-01',
    title: 'Change record and traceability',
    description:
      'The change record states the business justification and the security impact, and names ' +
      'the commit and the pipeline run that deploy it.',
    references: [
      SOX_404,
      ref('COBIT 2019', 'BAI06.01'),
      ref('COBIT 2019', 'BAI06.04'),
      ISO_A832,
      ref('NIST SP 800-53 Rev. 5', 'CM-3'),
      ref('NIST SP 800-53 Rev. 5', 'CM-4'),
    ],
    rules: ['justification-missing', 'security-impact-missing', 'traceability-missing'],
    reliesOn: [],
  },
  {
    id: 'CD-02',
    title: 'Test evidence',
    description:
      'The test suites the risk class requires ran with at least one passing test each, and no ' +
      'suite failed.',
    references: [
      SOX_404,
      ref('COBIT 2019', 'BAI07.05'),
      ref('ISO/IEC 27001:2022', 'A.8.29 (security testing in development and acceptance)'),
      ref('NIST SP 800-53 Rev. 5', 'CM-3(2)'),
    ],
    rules: ['required-tests-missing', 'tests-failed'],
    reliesOn: ['evidence.tests'],
  },
  {
    id: 'CD-03',
    title: 'Security scan evidence',
    description:
      'A security scan of the change ran to completion and left no critical finding open, and no ' +
      'more high findings than the settings allow.',
    references: [
      ref('COBIT 2019', 'DSS05.07'),
      ref('ISO/IEC 27001:2022', 'A.8.8 (management of technical vulnerabilities)'),
      ref('NIST SP 800-53 Rev. 5', 'RA-5'),
      ref('NIST SP 800-53 Rev. 5', 'SI-2'),
    ],
    rules: [
      'security-scan-missing',
      'security-scan-incomplete',
      'open-critical-vulnerabilities',
      'open-high-vulnerabilities',
    ],
    reliesOn: ['evidence.security_scan'],
  },
  {
    id: 'CD-04',
    title: 'Back-out plan',
    description:
      'The change has a documented back-out plan; a high-risk change has exercised it.',
    references: [
      ref('COBIT 2019', 'BAI06.01'),
      ref('COBIT 2019', 'BAI07.01'),
      ISO_A832,
      ref('NIST SP 800-53 Rev. 5', 'CM-3'),
    ],
    rules: ['rollback-plan-missing', 'rollback-plan-untested'],
    reliesOn: ['evidence.rollback_plan'],
  },
  {
    id: 'RC-01',
    title: 'Risk classification',
    description:
      'Every change is categorised and its risk assessed: the score of its factors (production, ' +
      'service tier, schema and security components, regulated data, size, failure history) ' +
      'and the class its categories imply, whichever is higher, decide its approval route.',
    references: [
      COSO_P7,
      ref('COBIT 2019', 'BAI06.01'),
      ISO_A832,
      ref('NIST SP 800-53 Rev. 5', 'CM-3'),
      ref('NIST SP 800-53 Rev. 5', 'CM-4'),
    ],
    rules: ['change-unclassified'],
    reliesOn: [],
  },
  {
    id: 'RC-02',
    title: 'Emergency change procedure',
    description:
      'An emergency change is raised against an incident, approved by the emergency change ' +
      'manager before it proceeds, approved retrospectively by the roles of its normal route and ' +
      'reviewed after implementation.',
    references: [
      ref('COBIT 2019', 'BAI06.02'),
      ref('COBIT 2019', 'BAI07.08'),
      ISO_A832,
      ref('NIST SP 800-53 Rev. 5', 'CM-3'),
    ],
    rules: ['emergency-incident-missing'],
    reliesOn: [],
  },
];

export const controlIds = CONTROLS.map((c) => c.id);

const byId = new Map(CONTROLS.map((c) => [c.id, c]));

/** The control with this id (throws for an id the catalogue does not hold: a bug, never data). */
export function control(id) {
  const found = byId.get(id);
  if (!found) throw new Error(`unknown control ${id}`);
  return found;
}
