// Deployment Authorization: who can deploy what, where, when (DA-01, DA-02, DA-03). The three
// controls gate production environments only; elsewhere they are not applicable.

import { ControlResult } from './findings.js';
import { sameIdentity } from './facts.js';

const outsideProduction = (facts) => `\`${facts.environment}\` is not a production environment`;

/** DA-01: the deployer belongs to an authorised deployer group. */
function authorisedDeployer(facts) {
  const result = new ControlResult('DA-01');
  if (!facts.production) return result.notApplicable(outsideProduction(facts));
  const { change, settings } = facts;
  const groups = change.deployerGroups.filter((g) => settings.authorised_deployer_groups.includes(g));
  if (groups.length > 0) {
    result.note(`${change.deployer} deploys as a member of ${groups.join(', ')}`);
  } else {
    result.find(
      'deployer-not-authorised',
      'high',
      `${change.deployer} is not in an authorised deployer group (${settings.authorised_deployer_groups.join(', ')})`,
      'deploy through a member of an authorised deployer group, or request membership through access management',
      'change.deployer_groups',
    );
  }
  return result;
}

/** DA-02: the author does not deploy their own change. */
function segregation(facts) {
  const result = new ControlResult('DA-02');
  if (!facts.production) return result.notApplicable(outsideProduction(facts));
  const { author, deployer } = facts.change;
  if (sameIdentity(author, deployer)) {
    result.find(
      'author-deploys-own-change',
      'high',
      `${deployer} deploys a change they wrote`,
      'have another member of the deployer group run the deployment',
      'change.deployer',
    );
  } else {
    result.note(`author ${author} and deployer ${deployer} are different people`);
  }
  return result;
}

/** DA-03: a CAB-scheduled change deploys inside its approved change window. */
function changeWindow(facts) {
  const result = new ControlResult('DA-03');
  if (!facts.production) return result.notApplicable(outsideProduction(facts));
  if (facts.change.emergency) {
    return result.notApplicable('emergency change: the emergency change procedure (RC-02) replaces the CAB window');
  }
  const tiers = facts.settings.cab_required_tiers;
  const tierText = facts.tierDeclared ? `tier ${facts.tier}` : 'undeclared tier (assessed as tier 1)';
  if (!tiers.includes(facts.tier)) {
    return result.notApplicable(`${tierText} service: production changes need no CAB window (tiers ${tiers.join(', ') || 'none'} do)`);
  }
  const acme = facts.acme ?? {};
  if (acme.cab_reference) {
    result.note(`scheduled by ${acme.cab_reference} for a ${tierText} service`);
  } else {
    result.find(
      'cab-reference-missing',
      'high',
      `a production change to a ${tierText} service needs a Change Advisory Board reference`,
      'have the change scheduled by the CAB and record the reference in `extensions.acme.cab_reference`',
      'extensions.acme.cab_reference',
    );
  }
  if (!acme.window) {
    result.find(
      'change-window-missing',
      'high',
      `a production change to a ${tierText} service needs its approved change window`,
      'record the window the CAB approved in `extensions.acme.change_window` ({start, end})',
      'extensions.acme.change_window',
    );
  } else if (facts.now >= acme.window.start && facts.now < acme.window.end) {
    result.note(`deployment at ${facts.nowText} is inside the window ${acme.change_window.start} to ${acme.change_window.end}`);
  } else {
    result.find(
      'outside-change-window',
      'high',
      `deployment at ${facts.nowText} is outside the approved window ${acme.change_window.start} to ${acme.change_window.end}`,
      'deploy inside the approved window, or have the CAB approve a new one',
      'extensions.acme.change_window',
    );
  }
  return result;
}

/** The Deployment Authorization controls, in catalogue order. */
export function deploymentAuthorization(facts) {
  return [authorisedDeployer(facts), segregation(facts), changeWindow(facts)];
}
