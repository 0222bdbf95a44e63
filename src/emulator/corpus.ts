/**
 * Dialogue the emulator transcribes "audio" into, written for jobhook: call-centre calls, a sales call,
 * a team meeting and a voicemail. A job's contentUri picks one by hash; long durations cycle through it.
 * Each line is [speaker index, text].
 */
export interface Dialogue {
  title: string;
  audioType: 'CallCenter' | 'Meeting' | 'Voicemail';
  speakers: number;
  lines: readonly (readonly [number, string])[];
}

export const CORPUS: readonly Dialogue[] = [
  {
    title: 'Router keeps dropping',
    audioType: 'CallCenter',
    speakers: 2,
    lines: [
      [0, 'Thank you for calling Northwind Internet support, my name is Priya. How can I help you today?'],
      [1, 'Hi Priya. My router keeps dropping the connection, about every twenty minutes since Monday.'],
      [0, "I'm sorry to hear that. Can I have the account number or the phone number on the account?"],
      [1, "Sure, it's five five five, two one nine, eight eight four zero."],
      [
        0,
        'Thank you. I can see a model AX three thousand router at your address. Are the lights on the front steady or blinking when it drops?',
      ],
      [1, 'The internet light turns orange and blinks, then it comes back after a minute or two.'],
      [
        0,
        "That usually means the line is resyncing. I'm going to run a line test from our side, it takes about thirty seconds.",
      ],
      [1, 'Okay, no problem.'],
      [
        0,
        'The test shows a lot of noise on the line. Is the router plugged into a phone splitter or straight into the wall?',
      ],
      [1, "Into a splitter, I think. There's a small white box between the cable and the wall."],
      [0, 'Could you take the splitter out and plug the router straight into the wall socket?'],
      [1, "Done. The lights are flashing again. Now they're green."],
      [
        0,
        "Great. I'll keep the line monitored for twenty four hours. If it drops again, we'll send a technician at no charge.",
      ],
      [1, 'That sounds good. Will I get a reference number?'],
      [0, 'Yes, your ticket number is N W four four seven one. Is there anything else I can help you with?'],
      [1, "No, that's all. Thanks for your help, Priya."],
      [0, 'You are welcome. Have a great day.'],
    ],
  },
  {
    title: 'Billing dispute',
    audioType: 'CallCenter',
    speakers: 2,
    lines: [
      [0, 'Good afternoon, Contoso Energy billing, this is Marcus speaking.'],
      [1, "Hello, I'm calling about my last bill. It's almost twice what I usually pay."],
      [0, 'I understand, let me take a look. Can you confirm your full name and the postcode of the property?'],
      [1, 'Elena Rossi, and the postcode is B four seven, two A X.'],
      [0, 'Thank you, Elena. I can see the last bill was based on an estimated reading, not an actual one.'],
      [1, "That explains it. I haven't had anyone read the meter in months."],
      [0, 'If you can give me a reading now, I can recalculate the bill while we are on the call.'],
      [1, 'Sure. The meter says four two eight one nine.'],
      [0, 'With that reading, your bill comes down by sixty two pounds and forty pence.'],
      [1, 'That is much better. Will the difference come back to my account?'],
      [
        0,
        'Yes, it will appear as a credit on your next statement. Would you like me to set up monthly reminders to submit readings?',
      ],
      [1, "Yes please, that would help. I'd rather not have estimates again."],
      [0, "Done. You'll get a text message on the first of each month. Is there anything else?"],
      [1, 'No, thank you very much, Marcus.'],
    ],
  },
  {
    title: 'Product demo follow-up',
    audioType: 'CallCenter',
    speakers: 2,
    lines: [
      [0, 'Hi Daniel, thanks for making time. Did your team get a chance to try the trial workspace after the demo?'],
      [1, 'We did. The scheduling features were popular, but we had questions about the reporting export.'],
      [0, 'Sure. What format does your finance team need?'],
      [1, 'They work in spreadsheets, so a CSV export every week would be ideal.'],
      [0, 'The standard plan exports CSV on demand, and the business plan can schedule it weekly to an email address.'],
      [1, 'How much is the business plan for around forty users?'],
      [0, 'At forty users it is twelve dollars per user per month on an annual contract, with the first month free.'],
      [1, "That's within budget. What about onboarding? Most of our staff aren't very technical."],
      [0, 'We include two live training sessions and a dedicated onboarding manager for the first ninety days.'],
      [1, "Okay. I'll need to run this past our operations director before we sign anything."],
      [0, 'Of course. Should I send a written proposal with the pricing and the onboarding plan today?'],
      [1, 'Yes, please send it today, and include the security documentation as well.'],
      [0, 'Will do. Can we book a follow-up call for next Thursday at ten?'],
      [1, 'Thursday at ten works. Thanks, talk to you then.'],
    ],
  },
  {
    title: 'Weekly release planning',
    audioType: 'Meeting',
    speakers: 4,
    lines: [
      [0, "Morning everyone. Let's start with the release. Are we still on track for Friday?"],
      [1, 'Mostly. The payment retry feature is done, but the mobile build is failing on one test.'],
      [2, "That's the flaky date test. I can fix it today, it only fails in the UTC plus twelve time zone."],
      [0, "Good. Sam, what's the status of the database migration?"],
      [3, "The migration runs in eleven minutes on a copy of production. I'd like a maintenance window to be safe."],
      [0, 'How long a window do you need?'],
      [3, 'Thirty minutes. Saturday at six in the morning would affect the fewest customers.'],
      [1, 'Who will be on call during that window?'],
      [2, 'I can be on call Saturday. Just send me the runbook before Friday.'],
      [
        0,
        'Great. So the actions are: fix the date test today, send the runbook by Thursday, and announce the window to customers.',
      ],
      [3, "I'll draft the customer announcement this afternoon."],
      [1, 'Should we also update the status page?'],
      [0, "Yes, let's do that on Friday morning. Anything else before we wrap up?"],
      [2, 'Just a reminder that the retrospective moved to Wednesday.'],
      [0, 'Thanks everyone. See you Wednesday.'],
    ],
  },
  {
    title: 'Voicemail from the clinic',
    audioType: 'Voicemail',
    speakers: 1,
    lines: [
      [0, 'Hi, this is Laura from Riverside Dental calling for James Carter.'],
      [0, 'I am calling to confirm your appointment on Tuesday the fourteenth at two thirty in the afternoon.'],
      [0, 'Please arrive ten minutes early to update your insurance details.'],
      [0, 'If you need to reschedule, call us back at five five five, three zero one, seven seven two two.'],
      [0, 'Thank you, and have a nice day.'],
    ],
  },
];
